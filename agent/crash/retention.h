#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vigie/config.h"
#include "vigie/time.h"

namespace vigie::crash {

// One record as retention sees it.
struct RetainedRecord {
  std::string id;  // time-sortable: oldest first when sorted
  WallTime time;
  std::string fingerprint;  // empty: never grouped
  bool has_core = false;
  uint64_t core_bytes = 0;
  uint64_t other_bytes = 0;  // metadata, report
};

struct RetentionPlan {
  std::vector<std::string> drop_core;  // keep the metadata, remove the core
  std::vector<std::string> remove;     // remove the whole record
};

// Like systemd-coredump's vacuum, plus a per-fingerprint cap, as a pure function:
//  1. records older than max_age go;
//  2. per fingerprint, at most cores_per_fingerprint records keep their core: the first one
//     and the latest ones; the others lose it (their metadata stays);
//  3. while the store uses more than max_use (bytes, or a percent of `fs_total`) or the
//     filesystem has less than keep_free available: cores go, oldest first, then whole
//     records, oldest first.
// `records` must be sorted by id (oldest first).
RetentionPlan planRetention(const std::vector<RetainedRecord>& records,
                            const CrashRetentionSpec& spec, uint64_t fs_total,
                            uint64_t fs_available, WallTime now);

}  // namespace vigie::crash
