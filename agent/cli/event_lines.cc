#include "agent/cli/event_lines.h"

#include <fmt/core.h>

#include <algorithm>

#include "agent/cli/crash_words.h"
#include "agent/cli/human.h"
#include "agent/cli/reload_text.h"
#include "agent/cli/terminal.h"
#include "agent/cli/unit_words.h"

namespace vigie::cli {
namespace {

std::string restartWords(const v1::InstanceExited& exited) {
  const std::string delay = humanDuration(fromProto(exited.restart_delay()));
  switch (exited.restart()) {
    case v1::RESTART_ACTION_NONE:
      return "; not restarting";
    case v1::RESTART_ACTION_NOW:
      return "; restarting now";
    case v1::RESTART_ACTION_LATER:
      return "; restart in " + delay;
    case v1::RESTART_ACTION_FAILED:
      return "; start limit hit, retry in " + delay;
    default:
      return "";
  }
}

std::string stateChangeWords(const v1::Event& event, const v1::UnitStateChanged& change,
                             bool color) {
  std::string out =
      fmt::format("{} -> {}", stateName(change.old_state()),
                  styled(stateName(change.new_state()), stateStyle(change.new_state()), color));
  if (change.has_next_start_time() && event.has_time()) {
    out +=
        ", next start " + humanUntil(fromProto(change.next_start_time()), fromProto(event.time()));
  }
  return out;
}

std::string exitWords(const v1::InstanceExited& exited, bool color) {
  const v1::ExitDetails& exit = exited.instance().exit();
  std::string out = fmt::format("instance {} ended: ", exited.instance().id());
  out += styled(exitReason(exit), exit.success() ? Style::kPlain : Style::kBad, color);
  if (exit.has_runtime()) {
    out += " after " + humanDuration(fromProto(exit.runtime()));
  }
  return out + restartWords(exited);
}

std::string reloadWords(const v1::ConfigReloaded& reload) {
  if (!reload.applied()) {
    return fmt::format("config reload rejected: {} error(s), nothing changed",
                       reload.error_count());
  }
  return "config reloaded: " + describeReloadSummary(reload.summary());
}

}  // namespace

std::string formatEvent(const v1::Event& event, bool color, size_t unit_width) {
  std::string unit = "-";
  std::string what;
  switch (event.payload_case()) {
    case v1::Event::kUnitStateChanged:
      unit = event.unit_state_changed().unit();
      what = stateChangeWords(event, event.unit_state_changed(), color);
      break;
    case v1::Event::kInstanceStarted:
      unit = event.instance_started().unit();
      what = fmt::format("instance {} started, pid {}", event.instance_started().instance_id(),
                         event.instance_started().pid());
      break;
    case v1::Event::kInstanceExited:
      unit = event.instance_exited().unit();
      what = exitWords(event.instance_exited(), color);
      break;
    case v1::Event::kConfigReloaded:
      what = reloadWords(event.config_reloaded());
      break;
    case v1::Event::kCrashOpened:
      unit =
          event.crash_opened().crash().unit().empty() ? "-" : event.crash_opened().crash().unit();
      what = crashEventWords(event.crash_opened().crash(), /*completed=*/false);
      break;
    case v1::Event::kCrashCompleted:
      unit = event.crash_completed().crash().unit().empty()
                 ? "-"
                 : event.crash_completed().crash().unit();
      what = crashEventWords(event.crash_completed().crash(), /*completed=*/true);
      break;
    default:
      // A newer agent's event this vigiectl does not know yet.
      what = "(an event this vigiectl does not know; upgrade vigiectl or use -o json)";
      break;
  }
  const std::string when =
      event.has_time() ? localTimeMillis(fromProto(event.time())) : std::string(23, '-');
  return fmt::format("{}  {:<{}}  {}\n", styled(when, Style::kDim, color), unit, unit_width, what);
}

std::vector<v1::Event> eventsFromHistory(const std::vector<v1::Unit>& units) {
  std::vector<v1::Event> events;
  for (const v1::Unit& unit : units) {
    for (const v1::Instance& instance : unit.instances()) {
      if (instance.has_start_time() && instance.pid() > 0) {
        v1::Event& started = events.emplace_back();
        *started.mutable_time() = instance.start_time();
        v1::InstanceStarted* payload = started.mutable_instance_started();
        payload->set_unit(unit.name());
        payload->set_instance_id(instance.id());
        payload->set_pid(instance.pid());
      }
      if (instance.has_exit()) {
        v1::Event& exited = events.emplace_back();
        *exited.mutable_time() =
            instance.exit().has_time() ? instance.exit().time() : instance.start_time();
        v1::InstanceExited* payload = exited.mutable_instance_exited();
        payload->set_unit(unit.name());
        *payload->mutable_instance() = instance;
      }
    }
  }
  // Stable: an instance's start stays before its exit when both carry the same time.
  std::stable_sort(events.begin(), events.end(), [](const v1::Event& a, const v1::Event& b) {
    return fromProto(a.time()) < fromProto(b.time());
  });
  return events;
}

}  // namespace vigie::cli
