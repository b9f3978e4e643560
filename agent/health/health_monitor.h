#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>

#include "agent/health/health_services.h"
#include "agent/health/liveness_checker.h"
#include "agent/health/notify_router.h"
#include "vigie/config.h"
#include "vigie/dispatcher.h"
#include "vigie/health.h"

namespace vigie {

// The health checks of one running instance: its liveness probe, its sd_notify messages
// (READY=1, STATUS=, WATCHDOG=1) and its watchdog. Writes what it sees into the instance's
// InstanceHealth and reports events to `on_event`, which decides what to do (the unit ends the
// instance on kLivenessFailed and kWatchdogExpired). Created when the instance starts, destroyed
// when it ends. Loop thread only.
//
// The watchdog is armed at the start (a workload that hangs before READY=1 is caught too):
// each WATCHDOG=1 pushes the deadline to now + watchdog; WATCHDOG=trigger expires it at once.
// It fires once.
class HealthMonitor {
 public:
  using OnEvent = std::function<void(HealthEvent)>;

  HealthMonitor(Dispatcher& dispatcher, HealthServices& services, const WorkloadSpec& spec,
                const SpawnSpec& exec_base, pid_t pid, MonoTime started, InstanceHealth& health,
                OnEvent on_event);
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  // A reload changed (or added, or removed) the probe: applied to the running instance.
  void setLiveness(const std::optional<ProbeSpec>& liveness);
  // Takes the sd_notify datagrams the instance sent before it was registered (see
  // NotifyRouter::replay). May end the instance, and so destroy this monitor: call it last.
  void replayEarlyNotifications();

 private:
  void onNotify(const NotifyMessage& message);
  void onWatchdogExpired();

  Dispatcher& dispatcher_;
  HealthServices& services_;
  SpawnSpec exec_base_;
  MonoTime started_;
  InstanceHealth& health_;
  OnEvent on_event_;
  std::optional<Duration> watchdog_;
  bool notify_ = false;
  pid_t pid_;
  std::unique_ptr<LivenessChecker> liveness_;
  TimerPtr watchdog_timer_;
  NotifyRouter::Registration registration_;
};

}  // namespace vigie
