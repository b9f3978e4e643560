#include "agent/cli/unit_words.h"

#include <fmt/core.h>

#include "agent/cli/human.h"
#include "agent/cli/unit_details.h"
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

std::string exitReasonName(v1::ExitReason reason) {
  switch (reason) {
    case v1::EXIT_REASON_OOM_KILLED:
      return "oom-killed";
    case v1::EXIT_REASON_LIVENESS:
      return "liveness";
    case v1::EXIT_REASON_WATCHDOG:
      return "watchdog";
    default:
      return "";
  }
}

std::string exitReason(const v1::ExitDetails& exit) {
  if (!exit.description().empty()) {
    return exit.description();
  }
  // An agent that sent no description: say why it ended, then how.
  if (const std::string reason = exitReasonName(exit.reason()); !reason.empty()) {
    v1::ExitDetails plain = exit;
    plain.set_reason(v1::EXIT_REASON_UNSPECIFIED);
    return exitReason(plain) + " (" + reason + ")";
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

std::string healthSummary(const v1::Unit& unit) {
  const v1::Instance* current = currentInstance(unit);
  if (current == nullptr) {
    return "";
  }
  if (unit.state() == v1::UNIT_STATE_STARTING && !current->ready()) {
    return "not ready";  // a notify unit before its READY=1.
  }
  if (current->has_liveness() && current->liveness().state() == v1::PROBE_STATE_FAILING) {
    return fmt::format("liveness failing {}/{}", current->liveness().consecutive_failures(),
                       current->liveness().failure_threshold());
  }
  return "";
}

std::string stateWithHealth(const v1::Unit& unit) {
  const std::string health = healthSummary(unit);
  return health.empty() ? stateName(unit.state()) : stateName(unit.state()) + " (" + health + ")";
}

std::string livenessProbeSummary(const v1::LivenessProbe& probe) {
  std::string what;
  switch (probe.kind()) {
    case v1::PROBE_KIND_EXEC:
      what =
          "exec " + shellJoin(std::vector<std::string>(probe.exec().begin(), probe.exec().end()));
      break;
    case v1::PROBE_KIND_HTTP:
      what = fmt::format("http GET {}:{}{}", probe.host(), probe.port(), probe.path());
      break;
    case v1::PROBE_KIND_TCP:
      what = fmt::format("tcp {}:{}", probe.host(), probe.port());
      break;
    default:
      what = "unknown probe";
      break;
  }
  // As the config writes them ("500ms", "10s"), not rounded like ages and uptimes.
  what +=
      fmt::format(" every {}, timeout {}, {} failure{}", formatDuration(fromProto(probe.period())),
                  formatDuration(fromProto(probe.timeout())), probe.failure_threshold(),
                  probe.failure_threshold() == 1 ? "" : "s");
  if (probe.has_initial_delay() && fromProto(probe.initial_delay()) > Duration::zero()) {
    what += ", first after " + formatDuration(fromProto(probe.initial_delay()));
  }
  return what;
}

}  // namespace vigie::cli
