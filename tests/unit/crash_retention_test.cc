// Retention of the incident store as a pure function: age, space (oldest first), and the
// per-fingerprint cap on full bundles (the first and the latest keep their core).
#include <doctest/doctest.h>

#include <algorithm>

#include "agent/crash/retention.h"

namespace vigie::crash {
namespace {

const WallTime kNow = WallTime{} + std::chrono::hours(24 * 365 * 50);

RetainedRecord record(int index, const std::string& fingerprint, uint64_t core_bytes,
                      Duration age) {
  char id[64];
  std::snprintf(id, sizeof id, "20261129T0800%02dZ-%d-0000000%d", index, 100 + index, index % 10);
  return RetainedRecord{id, kNow - age, fingerprint, core_bytes > 0, core_bytes, 4096};
}

bool contains(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

CrashRetentionSpec roomy() {
  CrashRetentionSpec spec;
  spec.max_use = uint64_t{1} << 40;
  spec.keep_free = 0;
  spec.max_age = Duration::zero();
  spec.cores_per_fingerprint = 100;
  return spec;
}

TEST_CASE("crash retention: within every limit nothing goes") {
  std::vector<RetainedRecord> records{record(1, "a", 1000, 1h), record(2, "b", 1000, 1h)};
  const RetentionPlan plan = planRetention(records, roomy(), 1 << 30, 1 << 30, kNow);
  CHECK(plan.drop_core.empty());
  CHECK(plan.remove.empty());
}

TEST_CASE("crash retention: per fingerprint the first and the latest keep their core") {
  std::vector<RetainedRecord> records;
  for (int i = 1; i <= 6; ++i) {
    records.push_back(record(i, "same", 1000, 1h));
  }
  records.push_back(record(7, "other", 1000, 1h));
  CrashRetentionSpec spec = roomy();
  spec.cores_per_fingerprint = 3;  // the first, and the two latest.
  const RetentionPlan plan = planRetention(records, spec, 1 << 30, 1 << 30, kNow);
  CHECK(plan.remove.empty());
  REQUIRE(plan.drop_core.size() == 3);
  CHECK(contains(plan.drop_core, records[1].id));
  CHECK(contains(plan.drop_core, records[2].id));
  CHECK(contains(plan.drop_core, records[3].id));
  CHECK_FALSE(contains(plan.drop_core, records[0].id));
  CHECK_FALSE(contains(plan.drop_core, records[4].id));
  CHECK_FALSE(contains(plan.drop_core, records[5].id));
  CHECK_FALSE(contains(plan.drop_core, records[6].id));
}

TEST_CASE("crash retention: over max_use the oldest cores go first, then the oldest records") {
  std::vector<RetainedRecord> records{record(1, "a", 10000, 3h), record(2, "b", 10000, 2h),
                                      record(3, "c", 10000, 1h)};
  CrashRetentionSpec spec = roomy();
  spec.max_use = 3 * 4096 + 10000;  // room for the metadata and one core.
  RetentionPlan plan = planRetention(records, spec, 1 << 30, 1 << 30, kNow);
  CHECK(plan.drop_core == std::vector<std::string>{records[0].id, records[1].id});
  CHECK(plan.remove.empty());

  spec.max_use = 4096;  // room for one record's metadata only.
  plan = planRetention(records, spec, 1 << 30, 1 << 30, kNow);
  CHECK(plan.drop_core.size() == 3);
  CHECK(plan.remove == std::vector<std::string>{records[0].id, records[1].id});
}

TEST_CASE("crash retention: max_use as a percent of the filesystem, and keep_free") {
  std::vector<RetainedRecord> records{record(1, "a", 10000, 2h), record(2, "b", 10000, 1h)};
  CrashRetentionSpec spec = roomy();
  spec.max_use_percent = 1;  // 1% of 1 MB: 10000 bytes.
  RetentionPlan plan = planRetention(records, spec, 1000000, 1 << 30, kNow);
  CHECK(plan.drop_core.size() == 2);

  spec = roomy();
  spec.keep_free = 15000;  // 5000 available: freeing one core is enough.
  plan = planRetention(records, spec, 1 << 30, 5000, kNow);
  CHECK(plan.drop_core == std::vector<std::string>{records[0].id});
  CHECK(plan.remove.empty());
}

TEST_CASE("crash retention: records older than max_age go whole") {
  std::vector<RetainedRecord> records{record(1, "a", 1000, 48h), record(2, "a", 1000, 1h)};
  CrashRetentionSpec spec = roomy();
  spec.max_age = 24h;
  const RetentionPlan plan = planRetention(records, spec, 1 << 30, 1 << 30, kNow);
  CHECK(plan.remove == std::vector<std::string>{records[0].id});
  CHECK(plan.drop_core.empty());
}

}  // namespace
}  // namespace vigie::crash
