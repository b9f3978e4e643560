#include "agent/metrics/crash_metrics.h"

#include <google/protobuf/util/time_util.h>

#include <tuple>
#include <utility>

namespace vigie {
namespace {

double seconds(const google::protobuf::Duration& d) {
  return static_cast<double>(google::protobuf::util::TimeUtil::DurationToNanoseconds(d)) / 1e9;
}

// vigie_crash_cores_total{outcome}: what became of the core, one value per CoreState.
constexpr std::array<std::pair<v1::CoreState, const char*>, 7> kCoreOutcomes = {{
    {v1::CORE_STATE_STORED, "stored"},
    {v1::CORE_STATE_DISABLED, "disabled"},
    {v1::CORE_STATE_TRUNCATED, "truncated"},
    {v1::CORE_STATE_RATE_LIMITED, "rate_limited"},
    {v1::CORE_STATE_EMPTY, "empty"},
    {v1::CORE_STATE_FAILED, "failed"},
    {v1::CORE_STATE_TIMED_OUT, "timed_out"},
}};

constexpr std::array<const char*, 4> kStages = {"proc_read", "drain", "symbolize", "compress"};

}  // namespace

const prometheus::Histogram::BucketBoundaries& CrashMetrics::captureBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return buckets;
}

CrashMetrics::CrashMetrics(prometheus::Registry& registry)
    : crashes_(prometheus::BuildCounter()
                   .Name("vigie_crashes_total")
                   .Help("Crash incidents opened, by unit (\"\" for a process that is no unit's) "
                         "and reason: exited, signaled, core-dumped, lost.")
                   .Register(registry)),
      stage_family_(prometheus::BuildHistogram()
                        .Name("vigie_crash_capture_stage_duration_seconds")
                        .Help("vigie-coredump's stages, from its reports: proc_read and drain "
                              "(what the crashed process waited for), then symbolize and "
                              "compress, which run side by side.")
                        .Register(registry)),
      cores_(prometheus::BuildCounter()
                 .Name("vigie_crash_cores_total")
                 .Help("Captures by what became of the core: stored, disabled (RLIMIT_CORE 0), "
                       "truncated (over the limit), rate_limited, empty, failed, timed_out.")
                 .Register(registry)),
      removals_(prometheus::BuildCounter()
                    .Name("vigie_crash_store_removals_total")
                    .Help("What retention removed from the incident store: a record's core "
                          "(kind=\"core\", the metadata stays) or a whole record.")
                    .Register(registry)),
      capture_duration_(prometheus::BuildHistogram()
                            .Name("vigie_crash_capture_duration_seconds")
                            .Help("vigie-coredump's whole capture, from its start to the spool "
                                  "entry published, from its reports.")
                            .Register(registry)
                            .Add({}, captureBuckets())),
      core_raw_bytes_(prometheus::BuildCounter()
                          .Name("vigie_crash_core_raw_bytes_total")
                          .Help("Bytes of core the kernel sent to vigie-coredump.")
                          .Register(registry)
                          .Add({})),
      core_stored_bytes_(prometheus::BuildCounter()
                             .Name("vigie_crash_core_stored_bytes_total")
                             .Help("Bytes of compressed core vigie-coredump stored.")
                             .Register(registry)
                             .Add({})),
      pattern_drift_(prometheus::BuildGauge()
                         .Name("vigie_core_pattern_drift")
                         .Help("1 while vigie manages core_pattern and the kernel's pattern is "
                               "not vigie's (someone rewrote it), else 0.")
                         .Register(registry)
                         .Add({})),
      store_bytes_(prometheus::BuildGauge()
                       .Name("vigie_crash_store_bytes")
                       .Help("Bytes used by the incident records (metadata, reports, cores), as "
                             "of the last retention pass.")
                       .Register(registry)
                       .Add({})) {
  static_assert(kStages.size() == std::tuple_size_v<decltype(stages_)>);
  static_assert(kCoreOutcomes.size() == std::tuple_size_v<decltype(core_outcomes_)>);
  for (size_t i = 0; i < kStages.size(); ++i) {
    stages_[i] = &stage_family_.Add({{"stage", kStages[i]}}, captureBuckets());
  }
  for (size_t i = 0; i < kCoreOutcomes.size(); ++i) {
    core_outcomes_[i] = &cores_.Add({{"outcome", kCoreOutcomes[i].second}});
  }
  cores_removed_ = &removals_.Add({{"kind", "core"}});
  records_removed_ = &removals_.Add({{"kind", "record"}});
  (void)crashCounter("", "core-dumped");  // node-level crashes: only cores are seen
}

CrashMetrics::~CrashMetrics() {
  // The families outlive this object (they belong to the registry): take the unit series out.
  for (auto& [unit, series] : units_) {
    for (auto& [reason, counter] : series) {
      crashes_.Remove(counter);
    }
  }
}

void CrashMetrics::addUnit(const std::string& unit) {
  for (const char* reason : kReasons) {
    (void)crashCounter(unit, reason);
  }
}

void CrashMetrics::removeUnit(const std::string& unit) {
  auto it = units_.find(unit);
  if (unit.empty() || it == units_.end()) {
    return;
  }
  for (auto& [reason, counter] : it->second) {
    crashes_.Remove(counter);
  }
  units_.erase(it);
}

prometheus::Counter& CrashMetrics::crashCounter(const std::string& unit,
                                                const std::string& reason) {
  prometheus::Counter*& counter = units_[unit][reason];
  if (counter == nullptr) {
    counter = &crashes_.Add({{"unit", unit}, {"reason", reason}});
  }
  return *counter;
}

void CrashMetrics::onIncidentOpened(const v1::CrashIncident& incident) {
  // A record from a report that could not be read has no reason: the crash is still counted.
  const std::string reason = incident.reason().empty() ? "unknown" : incident.reason();
  crashCounter(incident.node_level() ? std::string() : incident.unit(), reason).Increment();
}

void CrashMetrics::onCaptureReport(const v1::CaptureReport& report) {
  const v1::CaptureTimings& timings = report.timings();
  if (timings.has_total()) {
    capture_duration_.Observe(seconds(timings.total()));
  }
  const std::array<const google::protobuf::Duration*, kStages.size()> stages = {
      timings.has_proc_read() ? &timings.proc_read() : nullptr,
      timings.has_drain() ? &timings.drain() : nullptr,
      timings.has_symbolize() ? &timings.symbolize() : nullptr,
      timings.has_compress() ? &timings.compress() : nullptr};
  for (size_t i = 0; i < kStages.size(); ++i) {
    if (stages[i] != nullptr) {
      stages_[i]->Observe(seconds(*stages[i]));
    }
  }
  const v1::CoreInfo& core = report.core();
  core_raw_bytes_.Increment(static_cast<double>(core.raw_bytes()));
  core_stored_bytes_.Increment(static_cast<double>(core.stored_bytes()));
  for (size_t i = 0; i < kCoreOutcomes.size(); ++i) {
    if (core.state() == kCoreOutcomes[i].first) {
      core_outcomes_[i]->Increment();
    }
  }
}

void CrashMetrics::onCorePattern(const crash::CorePatternState& state) {
  pattern_drift_.Set(state.managed && state.drift ? 1 : 0);
}

void CrashMetrics::onStoreVacuumed(uint64_t store_bytes, size_t cores_removed,
                                   size_t records_removed) {
  store_bytes_.Set(static_cast<double>(store_bytes));
  cores_removed_->Increment(static_cast<double>(cores_removed));
  records_removed_->Increment(static_cast<double>(records_removed));
}

}  // namespace vigie
