#pragma once

#include <optional>
#include <string_view>

#include "vigie/result.h"
#include "vigie/time.h"

namespace vigie {

// The agent's own service manager as the notify code sees it: where sd_notify datagrams go and
// which watchdog applies to us. Production is libsystemd (LibsystemdNotifier); unit tests record
// the messages instead.
class Notifier {
 public:
  virtual ~Notifier() = default;

  // Sends one datagram of newline-separated assignments ("READY=1\nSTATUS=..."). Without a
  // NOTIFY_SOCKET this does nothing and succeeds: the agent runs the same with or without systemd.
  virtual Status send(std::string_view message) = 0;

  // WATCHDOG_USEC when the watchdog is meant for this process (WATCHDOG_PID unset or ours),
  // nullopt when there is none; an error when the variables are malformed.
  virtual Result<std::optional<Duration>> watchdogTimeout() = 0;
};

}  // namespace vigie
