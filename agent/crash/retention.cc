#include "agent/crash/retention.h"

#include <map>
#include <set>

namespace vigie::crash {

RetentionPlan planRetention(const std::vector<RetainedRecord>& records,
                            const CrashRetentionSpec& spec, uint64_t fs_total,
                            uint64_t fs_available, WallTime now) {
  RetentionPlan plan;
  std::set<std::string> removed;
  std::set<std::string> cores_dropped;

  if (spec.max_age > Duration::zero()) {
    for (const auto& record : records) {
      if (now - record.time > spec.max_age) {
        plan.remove.push_back(record.id);
        removed.insert(record.id);
      }
    }
  }

  // Per fingerprint: the records that still have a core, oldest first.
  std::map<std::string, std::vector<const RetainedRecord*>> with_core;
  for (const auto& record : records) {
    if (record.has_core && !record.fingerprint.empty() && !removed.count(record.id)) {
      with_core[record.fingerprint].push_back(&record);
    }
  }
  const size_t keep = spec.cores_per_fingerprint;
  for (const auto& [fingerprint, group] : with_core) {
    if (group.size() <= keep) {
      continue;
    }
    // Keep group[0] (the first) and the keep-1 latest; with keep 0, none.
    const size_t latest_from = keep == 0 ? group.size() : group.size() - (keep - 1);
    for (size_t i = keep == 0 ? 0 : 1; i < latest_from; ++i) {
      plan.drop_core.push_back(group[i]->id);
      cores_dropped.insert(group[i]->id);
    }
  }

  uint64_t used = 0;
  for (const auto& record : records) {
    if (removed.count(record.id)) {
      continue;
    }
    used += record.other_bytes + (cores_dropped.count(record.id) ? 0 : record.core_bytes);
  }
  uint64_t available = fs_available;
  const uint64_t max_use =
      spec.max_use_percent ? fs_total / 100 * *spec.max_use_percent : spec.max_use;
  auto over = [&] { return used > max_use || available < spec.keep_free; };

  for (const auto& record : records) {
    if (!over()) {
      break;
    }
    if (record.has_core && !removed.count(record.id) && !cores_dropped.count(record.id)) {
      plan.drop_core.push_back(record.id);
      cores_dropped.insert(record.id);
      used -= std::min(used, record.core_bytes);
      available += record.core_bytes;
    }
  }
  for (const auto& record : records) {
    if (!over()) {
      break;
    }
    if (!removed.count(record.id)) {
      plan.remove.push_back(record.id);
      removed.insert(record.id);
      used -= std::min(used, record.other_bytes);
      available += record.other_bytes;
    }
  }
  return plan;
}

}  // namespace vigie::crash
