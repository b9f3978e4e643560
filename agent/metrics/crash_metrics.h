#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <string>

#include "agent/crash/crash_events.h"

namespace vigie {

// The crash families, kept up to date from what the incident tracker learns (CrashEvents, on
// the loop thread): crashes by unit and reason, what each capture of vigie-coredump took and
// did with the core, the core_pattern drift, and the store's size. A scrape reads counters and
// gauges only, never the disk. See docs/metrics.md.
//
// Node-level crashes (a process that is no unit's) carry unit="": it cannot be a unit's name,
// and Prometheus treats it as the label being absent. Every unit's series exist at 0 from the
// unit's first event (UnitMetrics calls addUnit/removeUnit with its own series).
class CrashMetrics final : public crash::CrashEvents {
 public:
  explicit CrashMetrics(prometheus::Registry& registry);
  CrashMetrics(const CrashMetrics&) = delete;
  CrashMetrics& operator=(const CrashMetrics&) = delete;
  ~CrashMetrics() override;

  void addUnit(const std::string& unit);
  void removeUnit(const std::string& unit);

  void onIncidentOpened(const v1::CrashIncident& incident) override;
  void onCaptureReport(const v1::CaptureReport& report) override;
  void onCorePattern(const crash::CorePatternState& state) override;
  void onStoreVacuumed(uint64_t store_bytes, size_t cores_removed, size_t records_removed) override;

  // Buckets of the capture histograms: from a small core's milliseconds to capture_timeout.
  static const prometheus::Histogram::BucketBoundaries& captureBuckets();

 private:
  // The reasons an incident has (CrashIncident.reason), each unit's series made up front.
  static constexpr std::array<const char*, 4> kReasons = {"exited", "signaled", "core-dumped",
                                                          "lost"};
  using UnitSeries = std::map<std::string, prometheus::Counter*, std::less<>>;  // by reason

  prometheus::Counter& crashCounter(const std::string& unit, const std::string& reason);

  prometheus::Family<prometheus::Counter>& crashes_;
  prometheus::Family<prometheus::Histogram>& stage_family_;
  prometheus::Family<prometheus::Counter>& cores_;
  prometheus::Family<prometheus::Counter>& removals_;
  std::array<prometheus::Histogram*, 4> stages_{};       // proc_read, drain, symbolize, compress
  std::array<prometheus::Counter*, 7> core_outcomes_{};  // in kCoreOutcomes' order
  prometheus::Counter* cores_removed_ = nullptr;
  prometheus::Counter* records_removed_ = nullptr;
  prometheus::Histogram& capture_duration_;
  prometheus::Counter& core_raw_bytes_;
  prometheus::Counter& core_stored_bytes_;
  prometheus::Gauge& pattern_drift_;
  prometheus::Gauge& store_bytes_;
  std::map<std::string, UnitSeries, std::less<>> units_;  // unit "" is the node
};

}  // namespace vigie
