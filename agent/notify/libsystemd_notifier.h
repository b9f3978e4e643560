#pragma once

#include "agent/notify/notifier.h"

namespace vigie {

// Notifier over libsystemd's sd_notify() and sd_watchdog_enabled(). Neither unsets the
// environment: the watchdog pings need NOTIFY_SOCKET for the agent's whole life (workloads never
// see these variables: Supervisor::workloadBaseEnv drops them).
class LibsystemdNotifier final : public Notifier {
 public:
  Status send(std::string_view message) override;
  Result<std::optional<Duration>> watchdogTimeout() override;
};

}  // namespace vigie
