#include "agent/metrics/unit_metrics.h"

#include <algorithm>
#include <chrono>

#include "vigie/restart_policy.h"

namespace vigie {
namespace {

constexpr std::array<UnitState, 7> kAllStates = {
    UnitState::kStopped,    UnitState::kStarting, UnitState::kRunning, UnitState::kStopping,
    UnitState::kBackingOff, UnitState::kFailed,   UnitState::kExited,
};

constexpr std::array<ExitReason, kExitReasonCount> kAllReasons = {
    ExitReason::kSuccess, ExitReason::kFailure,  ExitReason::kKilled,
    ExitReason::kDumped,  ExitReason::kLost,     ExitReason::kSpawnFailed,
    ExitReason::kStopped, ExitReason::kLiveness, ExitReason::kWatchdog,
};

double seconds(Duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

std::string_view exitReasonName(ExitReason reason) {
  switch (reason) {
    case ExitReason::kSuccess:
      return "success";
    case ExitReason::kFailure:
      return "failure";
    case ExitReason::kKilled:
      return "killed";
    case ExitReason::kDumped:
      return "dumped";
    case ExitReason::kLost:
      return "lost";
    case ExitReason::kSpawnFailed:
      return "spawn_failed";
    case ExitReason::kStopped:
      return "stopped";
    case ExitReason::kLiveness:
      return "liveness";
    case ExitReason::kWatchdog:
      return "watchdog";
  }
  return "lost";
}

ExitReason exitReasonOf(const Unit& unit, const InstanceRecord& instance, bool stopping) {
  if (stopping) {
    return ExitReason::kStopped;
  }
  if (!instance.exit) {
    return ExitReason::kSpawnFailed;
  }
  switch (instance.health.end_reason) {
    case EndReason::kLiveness:
      return ExitReason::kLiveness;
    case EndReason::kWatchdog:
      return ExitReason::kWatchdog;
    case EndReason::kNone:
      break;
  }
  switch (instance.exit->kind) {
    case ExitStatus::Kind::kExited:
      return classifyExit(unit.spec(), *instance.exit) == ExitKind::kSuccess ? ExitReason::kSuccess
                                                                             : ExitReason::kFailure;
    case ExitStatus::Kind::kKilled:
      return ExitReason::kKilled;
    case ExitStatus::Kind::kDumped:
      return ExitReason::kDumped;
    case ExitStatus::Kind::kLost:
      return ExitReason::kLost;
  }
  return ExitReason::kLost;
}

// One unit's series. The metric objects belong to their families; these are handles to them.
struct UnitMetrics::Series {
  const Unit* unit = nullptr;
  prometheus::Gauge* up = nullptr;
  prometheus::Gauge* ready = nullptr;
  prometheus::Counter* liveness_failures = nullptr;
  std::array<prometheus::Gauge*, kAllStates.size()> states{};
  prometheus::Counter* restarts = nullptr;
  uint64_t restarts_counted = 0;  // Unit::totalRestarts() already added to `restarts`.
  std::array<prometheus::Counter*, kExitReasonCount> exits{};
  prometheus::Counter* oom_kills = nullptr;
  std::optional<PendingRestart> pending;
};

const prometheus::Histogram::BucketBoundaries& UnitMetrics::restartLatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  return buckets;
}

UnitMetrics::UnitMetrics(UnitObserver& next, prometheus::Registry& registry, const TimeSource& time,
                         CrashMetrics* crashes)
    : ForwardingObserver(next),
      time_(time),
      crashes_(crashes),
      up_(prometheus::BuildGauge()
              .Name("vigie_unit_up")
              .Help("1 while the unit's process runs, else 0.")
              .Register(registry)),
      ready_(prometheus::BuildGauge()
                 .Name("vigie_unit_ready")
                 .Help("1 while the unit's process runs and is ready (READY=1 for units with "
                       "notify: true; started, for the others), else 0.")
                 .Register(registry)),
      probe_failures_(prometheus::BuildCounter()
                          .Name("vigie_probe_failures_total")
                          .Help("Failed runs of the unit's health probes (probe=liveness): "
                                "failed, timed out, or could not start.")
                          .Register(registry)),
      state_(prometheus::BuildGauge()
                 .Name("vigie_unit_state")
                 .Help("The unit's life-cycle state: 1 for the current state, 0 for the others.")
                 .Register(registry)),
      restarts_(prometheus::BuildCounter()
                    .Name("vigie_unit_restarts_total")
                    .Help("Starts of the unit after its first one (policy restarts, retries and "
                          "operator restarts).")
                    .Register(registry)),
      exits_(prometheus::BuildCounter()
                 .Name("vigie_unit_exits_total")
                 .Help("Ended instances of the unit, by reason: success, failure (exit code not "
                       "in success_exit_codes), killed, dumped (signal with core), lost, "
                       "spawn_failed, stopped (by the agent), liveness and watchdog (ended "
                       "by the agent for a failed health check).")
                 .Register(registry)),
      oom_kills_(prometheus::BuildCounter()
                     .Name("vigie_unit_oom_kills_total")
                     .Help("Instances of the unit that the OOM killer ended (SIGKILL while the "
                           "unit's cgroup counted an OOM kill during that instance; units "
                           "with a cgroup only).")
                     .Register(registry)),
      latency_family_(prometheus::BuildHistogram()
                          .Name("vigie_restart_latency_seconds")
                          .Help("From an instance's exit seen by the agent to the next instance "
                                "started, for restarts the policy decided: immediate or after "
                                "a backoff delay.")
                          .Register(registry)),
      immediate_latency_(latency_family_.Add({{"restart", "immediate"}}, restartLatencyBuckets())),
      backoff_latency_(latency_family_.Add({{"restart", "backoff"}}, restartLatencyBuckets())) {}

UnitMetrics::~UnitMetrics() {
  // The families outlive this object (they belong to the registry): take our series out.
  for (auto& [name, series] : series_) {
    removeSeries(series);
  }
}

void UnitMetrics::syncUnits() {
  if (supervisor_ == nullptr) {
    return;
  }
  auto current = [this](const std::string& name, const Unit* unit) {
    return std::any_of(supervisor_->units().begin(), supervisor_->units().end(),
                       [&](const auto& u) { return u.get() == unit && u->name() == name; });
  };
  for (auto it = series_.begin(); it != series_.end();) {
    if (current(it->first, it->second.unit)) {
      ++it;
    } else {
      removeSeries(it->second);
      if (crashes_ != nullptr) {
        crashes_->removeUnit(it->first);
      }
      it = series_.erase(it);
    }
  }
  for (const auto& unit : supervisor_->units()) {
    if (unit) {
      Series* series = seriesOf(*unit);
      update(*unit, series != nullptr ? *series : addSeries(*unit));
    }
  }
}

UnitMetrics::Series* UnitMetrics::seriesOf(const Unit& unit) {
  auto it = series_.find(unit.name());
  if (it != series_.end() && it->second.unit == &unit) {
    return &it->second;
  }
  if (supervisor_ != nullptr) {
    // During a reload the supervisor's list is being rebuilt (some entries are empty): a unit not
    // found now is picked up by the syncUnits() that follows the reload.
    const auto& units = supervisor_->units();
    const bool known =
        std::any_of(units.begin(), units.end(), [&](const auto& u) { return u.get() == &unit; });
    if (!known) {
      return nullptr;
    }
  }
  return &addSeries(unit);
}

UnitMetrics::Series& UnitMetrics::addSeries(const Unit& unit) {
  auto it = series_.find(unit.name());
  if (it != series_.end()) {
    // Another unit object under the same name (removed, then added again): a fresh start.
    removeSeries(it->second);
    series_.erase(it);
    if (crashes_ != nullptr) {
      crashes_->removeUnit(unit.name());
    }
  }
  Series& series = series_[unit.name()];
  series.unit = &unit;
  const prometheus::Labels labels = {{"unit", unit.name()}};
  series.up = &up_.Add(labels);
  series.ready = &ready_.Add(labels);
  if (unit.spec().liveness) {
    series.liveness_failures = &probe_failures_.Add({{"unit", unit.name()}, {"probe", "liveness"}});
  }
  for (size_t i = 0; i < kAllStates.size(); ++i) {
    series.states[i] =
        &state_.Add({{"unit", unit.name()}, {"state", std::string(unitStateName(kAllStates[i]))}});
  }
  series.restarts = &restarts_.Add(labels);
  if (crashes_ != nullptr) {
    crashes_->addUnit(unit.name());
  }
  for (size_t i = 0; i < kAllReasons.size(); ++i) {
    series.exits[i] = &exits_.Add(
        {{"unit", unit.name()}, {"reason", std::string(exitReasonName(kAllReasons[i]))}});
  }
  series.oom_kills = &oom_kills_.Add(labels);
  return series;
}

void UnitMetrics::removeSeries(Series& series) {
  up_.Remove(series.up);
  ready_.Remove(series.ready);
  if (series.liveness_failures != nullptr) {
    probe_failures_.Remove(series.liveness_failures);
  }
  for (prometheus::Gauge* gauge : series.states) {
    state_.Remove(gauge);
  }
  restarts_.Remove(series.restarts);
  for (prometheus::Counter* counter : series.exits) {
    exits_.Remove(counter);
  }
  oom_kills_.Remove(series.oom_kills);
}

void UnitMetrics::update(const Unit& unit, Series& series) {
  const InstanceRecord* current = unit.currentInstance();
  series.up->Set(current != nullptr && current->running() ? 1 : 0);
  series.ready->Set(unit.ready() ? 1 : 0);
  for (size_t i = 0; i < kAllStates.size(); ++i) {
    series.states[i]->Set(unit.state() == kAllStates[i] ? 1 : 0);
  }
  const uint64_t total = unit.totalRestarts();
  if (total > series.restarts_counted) {
    series.restarts->Increment(static_cast<double>(total - series.restarts_counted));
  }
  series.restarts_counted = total;
}

void UnitMetrics::afterEvent(const Unit& unit) {
  if (Series* series = seriesOf(unit)) {
    update(unit, *series);
  }
}

void UnitMetrics::onStateChanged(const Unit& unit, UnitState from, UnitState to) {
  ForwardingObserver::onStateChanged(unit, from, to);
  // A restart announced by an end is still on its way only through starting or backing-off; a
  // stop in between cancels it.
  if (to != UnitState::kStarting && to != UnitState::kBackingOff) {
    if (Series* series = seriesOf(unit)) {
      series->pending.reset();
    }
  }
}

void UnitMetrics::onInstanceStarted(const Unit& unit, const InstanceRecord& instance) {
  ForwardingObserver::onInstanceStarted(unit, instance);
  Series* series = seriesOf(unit);
  if (series == nullptr || !series->pending) {
    return;
  }
  const Duration latency = time_.monotonicNow() - series->pending->exit_seen;
  (series->pending->immediate ? immediate_latency_ : backoff_latency_)
      .Observe(seconds(std::max(latency, Duration::zero())));
  series->pending.reset();
}

void UnitMetrics::onSpawnFailed(const Unit& unit, const InstanceRecord& instance) {
  ForwardingObserver::onSpawnFailed(unit, instance);
  if (Series* series = seriesOf(unit)) {
    series->pending.reset();  // no process started: nothing to time.
  }
}

void UnitMetrics::onHealthEvent(const Unit& unit, const InstanceRecord& instance,
                                HealthEvent event) {
  ForwardingObserver::onHealthEvent(unit, instance, event);
  if (event != HealthEvent::kProbeFailed) {
    return;
  }
  Series* series = seriesOf(unit);
  if (series == nullptr) {
    return;
  }
  if (series->liveness_failures == nullptr) {
    // A probe added by a reload: the series comes with its first failure.
    series->liveness_failures =
        &probe_failures_.Add({{"unit", unit.name()}, {"probe", "liveness"}});
  }
  series->liveness_failures->Increment();
}

void UnitMetrics::onInstanceEnded(const Unit& unit, const InstanceRecord& instance,
                                  const RestartDecision& decision, bool stopping) {
  ForwardingObserver::onInstanceEnded(unit, instance, decision, stopping);
  Series* series = seriesOf(unit);
  if (series == nullptr) {
    return;
  }
  const ExitReason reason = exitReasonOf(unit, instance, stopping);
  series->exits[static_cast<size_t>(reason)]->Increment();
  // Apart from the reason: an OOM kill is also "killed" (or "stopped" during a stop), and an
  // alert on memory wants it whatever the unit was doing.
  if (instance.oom_killed) {
    series->oom_kills->Increment();
  }
  const bool restarting = decision.action == RestartDecision::Action::kRestartNow ||
                          decision.action == RestartDecision::Action::kRestartLater;
  if (!stopping && restarting && instance.exit) {
    series->pending = PendingRestart{instance.exit->at_mono,
                                     decision.action == RestartDecision::Action::kRestartNow};
  } else {
    series->pending.reset();
  }
}

}  // namespace vigie
