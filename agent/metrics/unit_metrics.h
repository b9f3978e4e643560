#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "agent/metrics/crash_metrics.h"
#include "agent/supervisor/forwarding_observer.h"
#include "agent/supervisor/supervisor.h"
#include "agent/supervisor/unit.h"
#include "vigie/time.h"

namespace vigie {

// Why an instance ended, as vigie_unit_exits_total{reason} counts it. A fixed set, so that the
// number of series stays bounded whatever the workloads do.
enum class ExitReason {
  kSuccess,      // exited with a code in success_exit_codes.
  kFailure,      // exited with any other code.
  kKilled,       // killed by a signal, no core.
  kDumped,       // killed by a signal, with a core dump.
  kLost,         // gone, its status reaped by someone else.
  kSpawnFailed,  // never ran.
  kStopped,      // ended because the agent stopped it (operator stop, reload, shutdown).
  kLiveness,     // ended by the agent: its liveness probe failed failure_threshold times.
  kWatchdog,     // ended by the agent: no WATCHDOG=1 in time.
};
inline constexpr size_t kExitReasonCount = 9;
std::string_view exitReasonName(ExitReason reason);  // "success", "spawn_failed", ...
// How `instance` ended. `stopping`: the unit was being stopped (whatever the status says).
ExitReason exitReasonOf(const Unit& unit, const InstanceRecord& instance, bool stopping);

// The per-unit metric families and the restart latency histogram, kept up to date from the unit
// events: a link in the observer chain, in front of `next`. Loop thread only; the prometheus
// metrics it updates are thread-safe, so the HTTP thread collects them without asking the loop.
//
// The supervisor takes its observer in its constructor, so it is given to track() afterwards.
// Units appear on their first event; syncUnits() after a reload drops the series of removed
// units (which may still be stopping: their later events are ignored) and adds the new ones.
class UnitMetrics final : public ForwardingObserver {
 public:
  // `crashes`: its per-unit series come and go with the unit's (may be null).
  UnitMetrics(UnitObserver& next, prometheus::Registry& registry, const TimeSource& time,
              CrashMetrics* crashes = nullptr);
  UnitMetrics(const UnitMetrics&) = delete;
  UnitMetrics& operator=(const UnitMetrics&) = delete;
  ~UnitMetrics() override;

  void track(const Supervisor& supervisor) { supervisor_ = &supervisor; }
  // Makes the series match the supervisor's units: removed units go, new ones come.
  void syncUnits();

  void onStateChanged(const Unit& unit, UnitState from, UnitState to) override;
  void onInstanceStarted(const Unit& unit, const InstanceRecord& instance) override;
  void onSpawnFailed(const Unit& unit, const InstanceRecord& instance) override;
  void onInstanceEnded(const Unit& unit, const InstanceRecord& instance,
                       const RestartDecision& decision, bool stopping) override;
  void onHealthEvent(const Unit& unit, const InstanceRecord& instance, HealthEvent event) override;

  // Buckets of vigie_restart_latency_seconds: an immediate restart takes a few milliseconds, a
  // backoff restart up to backoff.max (30 s by default; longer ones land in +Inf).
  static const prometheus::Histogram::BucketBoundaries& restartLatencyBuckets();

 protected:
  void afterEvent(const Unit& unit) override;

 private:
  struct Series;
  // The restart that an instance's end announced, until the next instance starts.
  struct PendingRestart {
    MonoTime exit_seen;
    bool immediate = true;
  };

  // The series of `unit`, or null for a unit that is not (or no longer) one of the supervisor's.
  Series* seriesOf(const Unit& unit);
  Series& addSeries(const Unit& unit);
  void removeSeries(Series& series);
  void update(const Unit& unit, Series& series);

  const TimeSource& time_;
  CrashMetrics* crashes_;
  const Supervisor* supervisor_ = nullptr;
  prometheus::Family<prometheus::Gauge>& up_;
  prometheus::Family<prometheus::Gauge>& ready_;
  prometheus::Family<prometheus::Counter>& probe_failures_;
  prometheus::Family<prometheus::Gauge>& state_;
  prometheus::Family<prometheus::Counter>& restarts_;
  prometheus::Family<prometheus::Counter>& exits_;
  prometheus::Family<prometheus::Counter>& oom_kills_;
  prometheus::Family<prometheus::Histogram>& latency_family_;
  prometheus::Histogram& immediate_latency_;
  prometheus::Histogram& backoff_latency_;
  std::map<std::string, Series, std::less<>> series_;  // by unit name.
};

}  // namespace vigie
