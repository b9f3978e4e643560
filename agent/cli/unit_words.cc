#include "agent/cli/unit_words.h"

#include <fmt/core.h>

#include "agent/cli/human.h"
#include "vigie/config.h"

namespace vigie::cli {

std::string stateName(v1::UnitState state) {
  switch (state) {
    case v1::UNIT_STATE_STOPPED:
      return "stopped";
    case v1::UNIT_STATE_STARTING:
      return "starting";
    case v1::UNIT_STATE_RUNNING:
      return "running";
    case v1::UNIT_STATE_STOPPING:
      return "stopping";
    case v1::UNIT_STATE_BACKING_OFF:
      return "backing-off";
    case v1::UNIT_STATE_FAILED:
      return "failed";
    case v1::UNIT_STATE_EXITED:
      return "exited";
    default:
      return "unknown";
  }
}

Style stateStyle(v1::UnitState state) {
  switch (state) {
    case v1::UNIT_STATE_RUNNING:
      return Style::kGood;
    case v1::UNIT_STATE_STARTING:
    case v1::UNIT_STATE_STOPPING:
    case v1::UNIT_STATE_BACKING_OFF:
      return Style::kWarn;
    case v1::UNIT_STATE_FAILED:
      return Style::kBad;
    default:
      return Style::kPlain;
  }
}

std::string restartPolicyName(v1::RestartPolicy policy) {
  switch (policy) {
    case v1::RESTART_POLICY_ALWAYS:
      return "always";
    case v1::RESTART_POLICY_ON_FAILURE:
      return "on-failure";
    case v1::RESTART_POLICY_NEVER:
      return "never";
    default:
      return "unknown";
  }
}

std::string exitReason(const v1::ExitDetails& exit) {
  if (!exit.description().empty()) {
    return exit.description();
  }
  switch (exit.kind()) {
    case v1::EXIT_KIND_EXITED:
      return fmt::format("exit code {}", exit.code());
    case v1::EXIT_KIND_KILLED:
      return "signal " + signalName(exit.signal());
    case v1::EXIT_KIND_DUMPED:
      return "signal " + signalName(exit.signal()) + " (core dumped)";
    case v1::EXIT_KIND_LOST:
      return "exit status lost";
    case v1::EXIT_KIND_SPAWN_FAILED:
      return "could not start: " + exit.spawn_error();
    default:
      return "ended";
  }
}

const v1::Instance* lastEndedInstance(const v1::Unit& unit) {
  for (int i = unit.instances_size() - 1; i >= 0; --i) {
    if (unit.instances(i).has_exit()) {
      return &unit.instances(i);
    }
  }
  return nullptr;
}

const v1::Instance* currentInstance(const v1::Unit& unit) {
  if (unit.instances_size() == 0 || unit.pid() == 0) {
    return nullptr;
  }
  const v1::Instance& newest = unit.instances(unit.instances_size() - 1);
  return newest.has_exit() ? nullptr : &newest;
}

std::string lastExitSummary(const v1::Unit& unit, WallTime now) {
  const v1::Instance* ended = lastEndedInstance(unit);
  if (ended == nullptr) {
    return "-";
  }
  std::string out = exitReason(ended->exit());
  if (ended->exit().has_time()) {
    out += " " + humanAgo(fromProto(ended->exit().time()), now);
  }
  return out;
}

std::string nextStartSummary(const v1::Unit& unit, WallTime now) {
  const bool waiting =
      unit.state() == v1::UNIT_STATE_BACKING_OFF || unit.state() == v1::UNIT_STATE_FAILED;
  if (!waiting || !unit.has_next_start_time()) {
    return "-";
  }
  return humanUntil(fromProto(unit.next_start_time()), now);
}

}  // namespace vigie::cli
