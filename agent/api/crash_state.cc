#include "agent/api/crash_state.h"

#include <google/protobuf/util/message_differencer.h>

#include <unordered_set>

#include "agent/api/crash_convert.h"
#include "agent/api/proto_convert.h"

namespace vigie {
namespace {

using google::protobuf::util::MessageDifferencer;

std::shared_ptr<const v1::CrashSummary> summaryOf(const v1::CrashIncident& incident) {
  auto summary = std::make_shared<v1::CrashSummary>();
  fillCrashSummary(incident, summary.get());
  return summary;
}

}  // namespace

void fillCrashSummary(const CrashEntry& entry, v1::CrashSummary* out) {
  *out = *entry.summary;
  out->set_revision(entry.revision);
}

bool nextCrashState(const CrashState& previous, const crash::CrashIndex& index, uint64_t revision,
                    MonoTime now, CrashState& next) {
  if (previous.enabled && previous.index_version == index.version) {
    next = previous;  // the index did not change: most publishes are about units.
    return false;
  }
  next.enabled = true;
  next.loaded = index.loaded;
  next.index_version = index.version;
  next.store_dir = index.store_dir;
  next.core_pattern = index.core_pattern;
  next.entries.clear();
  next.entries.reserve(index.incidents.size());
  bool changed = false;
  for (const crash::IncidentPtr& incident : index.incidents) {
    const CrashEntry* before = previous.find(incident->id());
    if (index.writing.count(incident->id()) > 0) {
      // Not on disk yet: what the API showed stays, a new one waits for its record.
      if (before != nullptr) {
        next.entries.push_back(*before);
      }
      continue;
    }
    if (before != nullptr && before->incident == incident) {
      next.entries.push_back(*before);  // the very same record: nothing to compare.
      continue;
    }
    auto summary = summaryOf(*incident);
    if (before != nullptr && MessageDifferencer::Equals(*before->summary, *summary)) {
      next.entries.push_back(CrashEntry{incident, before->summary, before->revision});
      continue;
    }
    next.entries.push_back(CrashEntry{incident, std::move(summary), revision});
    changed = true;
  }
  // Removed since: tombstones, in id order. A tombstone whose id is back is superseded.
  std::unordered_set<std::string_view> present;
  for (const CrashEntry& entry : next.entries) {
    present.insert(entry.incident->id());
  }
  next.tombstones.clear();
  for (const Tombstone& tombstone : previous.tombstones) {
    if (present.count(tombstone.name) == 0) {
      next.tombstones.push_back(tombstone);
    }
  }
  // (An entry shown before is still in the index unless removed: while a newer version is
  // written, the shown one stays.)
  for (const CrashEntry& entry : previous.entries) {
    if (present.count(entry.incident->id()) == 0) {
      next.tombstones.push_back(Tombstone{entry.incident->id(), revision, now});
      changed = true;
    }
  }
  return changed;
}

std::vector<v1::Event> crashEvents(const CrashState& before, const CrashState& after,
                                   WallTime now) {
  std::vector<v1::Event> events;
  // The first read of the store brings old records: the state, not news.
  const bool baseline = !before.loaded && after.loaded;
  for (const CrashEntry& entry : after.entries) {
    const CrashEntry* old = before.find(entry.incident->id());
    const bool settled = entry.summary->status() != v1::INCIDENT_STATUS_PENDING;
    const bool appeared = old == nullptr && !baseline;
    const bool completed =
        settled &&
        (old == nullptr ? !baseline : old->summary->status() == v1::INCIDENT_STATUS_PENDING);
    if (appeared) {
      v1::Event event;
      *event.mutable_time() = toTimestamp(now);
      fillCrashSummary(entry, event.mutable_crash_opened()->mutable_crash());
      events.push_back(std::move(event));
    }
    if (completed) {
      v1::Event event;
      *event.mutable_time() = toTimestamp(now);
      fillCrashSummary(entry, event.mutable_crash_completed()->mutable_crash());
      events.push_back(std::move(event));
    }
  }
  return events;
}

}  // namespace vigie
