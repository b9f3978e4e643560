#include "agent/health/health_monitor.h"

#include <utility>

namespace vigie {

HealthMonitor::HealthMonitor(Dispatcher& dispatcher, HealthServices& services,
                             const WorkloadSpec& spec, const SpawnSpec& exec_base, pid_t pid,
                             MonoTime started, InstanceHealth& health, OnEvent on_event)
    : dispatcher_(dispatcher),
      services_(services),
      exec_base_(exec_base),
      started_(started),
      health_(health),
      on_event_(std::move(on_event)),
      watchdog_(spec.watchdog),
      notify_(spec.notify),
      pid_(pid) {
  setLiveness(spec.liveness);
  if (watchdog_) {
    watchdog_timer_ = dispatcher_.createTimer([this] { onWatchdogExpired(); });
    watchdog_timer_->enableAt(started_ + *watchdog_);
  }
  if (notify_ && services_.notify != nullptr) {
    registration_ =
        services_.notify->add(pid, [this](const NotifyMessage& message) { onNotify(message); });
  }
}

void HealthMonitor::replayEarlyNotifications() {
  if (notify_ && services_.notify != nullptr) {
    services_.notify->replay(pid_);
  }
}

void HealthMonitor::setLiveness(const std::optional<ProbeSpec>& liveness) {
  if (!liveness || services_.probes == nullptr) {
    liveness_.reset();
    health_.liveness.reset();
    return;
  }
  if (liveness_) {
    liveness_->reconfigure(*liveness);
    return;
  }
  health_.liveness.emplace();
  liveness_ = std::make_unique<LivenessChecker>(dispatcher_, *services_.probes, *liveness,
                                                exec_base_, started_, *health_.liveness,
                                                [this](HealthEvent event) { on_event_(event); });
}

void HealthMonitor::onNotify(const NotifyMessage& message) {
  if (message.status && *message.status != health_.notify_status) {
    health_.notify_status = *message.status;
    on_event_(HealthEvent::kStatus);
  }
  if (message.ready && !health_.ready) {
    health_.ready = true;
    on_event_(HealthEvent::kReady);
  }
  if (!watchdog_timer_ || !watchdog_timer_->enabled()) {
    return;  // no watchdog, or it fired already.
  }
  if (message.watchdog_trigger) {
    watchdog_timer_->disable();
    onWatchdogExpired();
  } else if (message.watchdog_ping) {
    watchdog_timer_->enableAt(dispatcher_.monotonicNow() + *watchdog_);
  }
}

void HealthMonitor::onWatchdogExpired() {
  on_event_(HealthEvent::kWatchdogExpired);
}

}  // namespace vigie
