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
  const std::string how = instance.exit
                              ? instance.exit->describe() + " after " +
                                    roughly(instance.exit->at_mono - instance.started_mono)
                              : std::string("failed start");
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

}  // namespace vigie
