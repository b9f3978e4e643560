#include "agent/daemon/unit_logger.h"

#include <spdlog/spdlog.h>

namespace vigie {
namespace {

// Log lines show milliseconds: nanosecond-exact uptimes are noise to a reader.
std::string roughly(Duration d) {
  return formatDuration(std::chrono::round<std::chrono::milliseconds>(d));
}

}  // namespace

void UnitLogger::onStateChanged(const Unit& unit, UnitState from, UnitState to) {
  spdlog::debug("{}: {} -> {}", unit.name(), unitStateName(from), unitStateName(to));
}

void UnitLogger::onInstanceStarted(const Unit& unit, const InstanceRecord& instance) {
  spdlog::info("{}: instance {} started, pid {}", unit.name(), instance.id, instance.pid);
}

void UnitLogger::onSpawnFailed(const Unit& unit, const InstanceRecord& instance) {
  spdlog::error("{}: instance {} failed to start: {}", unit.name(), instance.id,
                instance.spawn_error);
}

void UnitLogger::onInstanceEnded(const Unit& unit, const InstanceRecord& instance,
                                 const RestartDecision& decision, bool stopping) {
  std::string how = instance.exit
                        ? instance.exit->describe() + (instance.oom_killed ? " (oom-killed)" : "") +
                              " after " + roughly(instance.exit->at_mono - instance.started_mono)
                        : std::string("failed start");
  if (instance.health.end_reason != EndReason::kNone) {
    how += ", ended for " + std::string(endReasonName(instance.health.end_reason)) + ": " +
           instance.health.end_detail;
  }
  if (stopping) {
    spdlog::info("{}: instance {} ended ({}), stopped", unit.name(), instance.id, how);
    return;
  }
  switch (decision.action) {
    case RestartDecision::Action::kDone:
      spdlog::info("{}: instance {} ended ({}), not restarting (policy {})", unit.name(),
                   instance.id, how,
                   unit.spec().restart.policy == RestartPolicyKind::kNever       ? "never"
                   : unit.spec().restart.policy == RestartPolicyKind::kOnFailure ? "on-failure"
                                                                                 : "always");
      return;
    case RestartDecision::Action::kRestartNow:
      spdlog::warn("{}: instance {} ended ({}), restarting now", unit.name(), instance.id, how);
      return;
    case RestartDecision::Action::kRestartLater:
      spdlog::warn("{}: instance {} ended ({}), restart {} in {}", unit.name(), instance.id, how,
                   unit.restartCount(), roughly(decision.delay));
      return;
    case RestartDecision::Action::kFail:
      spdlog::error(
          "{}: instance {} ended ({}); start limit reached ({} restarts within {}): failed, "
          "retrying every {}",
          unit.name(), instance.id, how, unit.spec().restart.limit.burst,
          formatDuration(unit.spec().restart.limit.interval), formatDuration(decision.delay));
      return;
  }
}

void UnitLogger::onHealthEvent(const Unit& unit, const InstanceRecord& instance,
                               HealthEvent event) {
  const InstanceHealth& health = instance.health;
  switch (event) {
    case HealthEvent::kReady:
      spdlog::info("{}: instance {} ready (READY=1)", unit.name(), instance.id);
      return;
    case HealthEvent::kStatus:
      spdlog::debug("{}: instance {} status: {}", unit.name(), instance.id, health.notify_status);
      return;
    case HealthEvent::kProbePassing:
      if (health.liveness && health.liveness->failures > 0 && health.liveness->last) {
        spdlog::info("{}: instance {} liveness probe passes again ({})", unit.name(), instance.id,
                     health.liveness->last->status);
      }
      return;
    case HealthEvent::kProbeFailed:
      if (health.liveness && health.liveness->last_failure) {
        spdlog::warn("{}: instance {} liveness probe failed ({}/{}): {}", unit.name(), instance.id,
                     health.liveness->consecutive_failures, health.liveness->failure_threshold,
                     health.liveness->last_failure->status);
      }
      return;
    case HealthEvent::kLivenessFailed:
      spdlog::error("{}: instance {} failed its liveness probe {} times in a row: sending {}",
                    unit.name(), instance.id,
                    health.liveness ? health.liveness->consecutive_failures : 0,
                    signalName(unit.spec().stop.signal));
      return;
    case HealthEvent::kWatchdogExpired:
      spdlog::error("{}: instance {} sent no WATCHDOG=1 within {}: sending SIGABRT", unit.name(),
                    instance.id, formatDuration(unit.spec().watchdog.value_or(Duration{})));
      return;
  }
}

}  // namespace vigie
