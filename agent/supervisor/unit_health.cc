// A unit's side of its health checks (docs/health.md): what the workload's environment gets,
// the checks of the current instance, and how a failed check ends it.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <string>

#include "agent/supervisor/unit.h"

namespace vigie {
namespace {

void setEnv(std::vector<std::string>& env, const std::string& name, const std::string& value) {
  const std::string prefix = name + "=";
  std::erase_if(env, [&](const std::string& entry) { return entry.starts_with(prefix); });
  env.push_back(prefix + value);
}

}  // namespace

std::string Unit::addHealthEnv(SpawnSpec& spawn_spec) const {
  if (!spec_.notify) {
    return {};
  }
  if (context_.health == nullptr || context_.health->notify == nullptr ||
      context_.health->notify_socket.empty()) {
    return "notify: true, but the agent has no sd_notify socket for workloads (see its log)";
  }
  setEnv(spawn_spec.env, "NOTIFY_SOCKET", context_.health->notify_socket);
  if (spec_.watchdog) {
    const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(*spec_.watchdog);
    setEnv(spawn_spec.env, "WATCHDOG_USEC", std::to_string(std::max<int64_t>(usec.count(), 1)));
  }
  return {};
}

bool Unit::ready() const {
  return current_ != nullptr && current_->running() && current_->health.ready;
}

void Unit::startHealth(InstanceRecord& instance) {
  if (context_.health == nullptr || (!spec_.liveness && !spec_.notify)) {
    return;
  }
  InstanceRecord* record = &instance;
  health_ = std::make_unique<HealthMonitor>(
      context_.dispatcher, *context_.health, spec_, spawn_spec_, instance.pid,
      instance.started_mono, instance.health,
      [this, record](HealthEvent event) { onHealthEvent(*record, event); });
  // Last: a replayed message may end the instance (and reset health_).
  health_->replayEarlyNotifications();
}

void Unit::stopHealth() {
  health_.reset();
  if (health_kill_timer_) {
    health_kill_timer_->disable();
  }
}

void Unit::applyLivenessInPlace() {
  if (current_ == nullptr || !current_->running()) {
    return;  // the next instance starts with the new probe.
  }
  if (health_) {
    health_->setLiveness(spec_.liveness);
  } else {
    startHealth(*current_);
  }
}

void Unit::onHealthEvent(InstanceRecord& instance, HealthEvent event) {
  if (&instance != current_) {
    return;
  }
  context_.observer.onHealthEvent(*this, instance, event);
  switch (event) {
    case HealthEvent::kReady:
      if (state_ == UnitState::kStarting) {
        handle(UnitEvent::kSpawned);
      }
      return;
    case HealthEvent::kLivenessFailed: {
      const LivenessStatus& liveness = *instance.health.liveness;
      const std::string last = liveness.last_failure ? liveness.last_failure->status : "failed";
      endForHealth(
          instance, EndReason::kLiveness,
          last + " (" + std::to_string(liveness.consecutive_failures) + " failures in a row)");
      return;
    }
    case HealthEvent::kWatchdogExpired:
      endForHealth(instance, EndReason::kWatchdog,
                   "no WATCHDOG=1 within " + formatDuration(spec_.watchdog.value_or(Duration{})));
      return;
    case HealthEvent::kStatus:
    case HealthEvent::kProbePassing:
    case HealthEvent::kProbeFailed:
      return;
  }
}

void Unit::endForHealth(InstanceRecord& instance, EndReason reason, std::string detail) {
  if (!instance.running() || instance.health.end_reason != EndReason::kNone ||
      state_ == UnitState::kStopping) {
    return;  // ending already: the first reason (or an operator's stop) stands.
  }
  instance.health.end_reason = reason;
  instance.health.end_detail = std::move(detail);
  if (reason == EndReason::kWatchdog) {
    // SIGABRT to the main process only: it dumps where it hung, and the crash path captures
    // the core and a backtrace. Its group goes with it when it is reaped.
    instance.process->signal(SIGABRT).ok();
  } else {
    instance.process->signalGroup(spec_.stop.signal).ok();
  }
  if (!health_kill_timer_) {
    health_kill_timer_ = context_.dispatcher.createTimer([this] {
      if (current_ != nullptr && current_->process && current_->running()) {
        current_->process->signalGroup(SIGKILL).ok();
        killCgroup();
      }
    });
  }
  health_kill_timer_->enableAt(context_.dispatcher.monotonicNow() + spec_.stop.timeout);
}

}  // namespace vigie
