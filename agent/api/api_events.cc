#include "agent/api/api_events.h"

#include "agent/api/proto_convert.h"
#include "agent/api/unit_view.h"

namespace vigie {

v1::Event unitStateChangedEvent(const std::string& unit, UnitState from, UnitState to,
                                std::optional<WallTime> next_start, WallTime now) {
  v1::Event event;
  *event.mutable_time() = toTimestamp(now);
  v1::UnitStateChanged* changed = event.mutable_unit_state_changed();
  changed->set_unit(unit);
  changed->set_old_state(toProto(from));
  changed->set_new_state(toProto(to));
  if (next_start) {
    *changed->mutable_next_start_time() = toTimestamp(*next_start);
  }
  return event;
}

v1::Event instanceStartedEvent(const Unit& unit, const InstanceRecord& instance, WallTime now) {
  v1::Event event;
  *event.mutable_time() = toTimestamp(now);
  v1::InstanceStarted* started = event.mutable_instance_started();
  started->set_unit(unit.name());
  started->set_instance_id(instance.id);
  started->set_pid(instance.pid);
  return event;
}

v1::RestartAction toProto(const RestartDecision& decision, bool stopping) {
  if (stopping) {
    return v1::RESTART_ACTION_NONE;
  }
  switch (decision.action) {
    case RestartDecision::Action::kDone:
      return v1::RESTART_ACTION_NONE;
    case RestartDecision::Action::kRestartNow:
      return v1::RESTART_ACTION_NOW;
    case RestartDecision::Action::kRestartLater:
      return v1::RESTART_ACTION_LATER;
    case RestartDecision::Action::kFail:
      return v1::RESTART_ACTION_FAILED;
  }
  return v1::RESTART_ACTION_UNSPECIFIED;
}

v1::Event instanceExitedEvent(const Unit& unit, const InstanceRecord& instance,
                              const RestartDecision& decision, bool stopping, WallTime now) {
  v1::Event event;
  *event.mutable_time() = toTimestamp(now);
  v1::InstanceExited* exited = event.mutable_instance_exited();
  exited->set_unit(unit.name());
  fillInstance(buildInstanceView(unit.spec(), instance), exited->mutable_instance());
  const v1::RestartAction action = toProto(decision, stopping);
  exited->set_restart(action);
  if (action == v1::RESTART_ACTION_LATER || action == v1::RESTART_ACTION_FAILED) {
    *exited->mutable_restart_delay() = toDuration(decision.delay);
  }
  return event;
}

v1::Event configReloadedEvent(const v1::ReloadSummary* summary, size_t error_count, WallTime now) {
  v1::Event event;
  *event.mutable_time() = toTimestamp(now);
  v1::ConfigReloaded* reloaded = event.mutable_config_reloaded();
  reloaded->set_applied(summary != nullptr);
  reloaded->set_error_count(static_cast<uint32_t>(error_count));
  if (summary != nullptr) {
    *reloaded->mutable_summary() = *summary;
  }
  return event;
}

void fillReloadSummary(const Supervisor::ReloadSummary& summary, v1::ReloadSummary* out) {
  for (const auto& name : summary.added) {
    out->add_added(name);
  }
  for (const auto& name : summary.removed) {
    out->add_removed(name);
  }
  for (const auto& name : summary.restarted) {
    out->add_restarted(name);
  }
  for (const auto& name : summary.updated) {
    out->add_updated(name);
  }
  for (const auto& name : summary.unchanged) {
    out->add_unchanged(name);
  }
}

const std::string& eventUnit(const v1::Event& event) {
  switch (event.payload_case()) {
    case v1::Event::kUnitStateChanged:
      return event.unit_state_changed().unit();
    case v1::Event::kInstanceStarted:
      return event.instance_started().unit();
    case v1::Event::kInstanceExited:
      return event.instance_exited().unit();
    case v1::Event::kCrashOpened:
      return event.crash_opened().crash().unit();
    case v1::Event::kCrashCompleted:
      return event.crash_completed().crash().unit();
    default:
      break;
  }
  static const std::string kAgentWide;
  return kAgentWide;
}

}  // namespace vigie
