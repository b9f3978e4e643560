#pragma once

#include <cstddef>
#include <cstdint>

#include "agent/crash/crash_index.h"
#include "vigie/v1/crash.pb.h"

namespace vigie::crash {

// What the incident tracker learns, told as it learns it: the Prometheus metrics count crashes
// and captures from here, so that a scrape never reads the disk. Called on the loop thread;
// implementations must be quick and must not block.
class CrashEvents {
 public:
  virtual ~CrashEvents() = default;

  // A new incident record: an instance's abnormal end, a node-level crash, a report that could
  // not be read. Not called for the records loaded from the store at start.
  virtual void onIncidentOpened(const v1::CrashIncident& incident) = 0;
  // A report of vigie-coredump was read from the spool (one call per spool entry).
  virtual void onCaptureReport(const v1::CaptureReport& report) = 0;
  // vigie's hold on core_pattern changed (installed, drift, error).
  virtual void onCorePattern(const CorePatternState& state) = 0;
  // Retention ran (after each new record and each core that landed): what the store's records
  // use now, and what this pass removed.
  virtual void onStoreVacuumed(uint64_t store_bytes, size_t cores_removed,
                               size_t records_removed) = 0;
};

}  // namespace vigie::crash
