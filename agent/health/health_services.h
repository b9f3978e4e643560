#pragma once

#include <string>

#include "agent/health/notify_router.h"
#include "agent/health/probe.h"

namespace vigie {

// What units need to check their workloads' health. Owned by the daemon (or a test); each must
// outlive the units.
struct HealthServices {
  ProbeFactory* probes = nullptr;  // null: the supervisor makes a LinuxProbeFactory of its own.
  NotifyRouter* notify = nullptr;  // null: units with notify: true cannot start.
  std::string notify_socket;       // the path workloads get as NOTIFY_SOCKET.
};

}  // namespace vigie
