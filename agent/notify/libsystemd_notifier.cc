#include "agent/notify/libsystemd_notifier.h"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

namespace vigie {
namespace {

// Nanosecond durations overflow past ~292 years; any watchdog above this is pinged as if it were
// this long, which is always safe (pinging early is harmless).
constexpr uint64_t kMaxWatchdogUsec = uint64_t{1'000'000} * 3600 * 24 * 365;

}  // namespace

Status LibsystemdNotifier::send(std::string_view message) {
  const std::string text(message);  // sd_notify wants a NUL-terminated string.
  const int sent = sd_notify(/*unset_environment=*/0, text.c_str());
  if (sent < 0) {
    const std::string first_line = text.substr(0, text.find('\n'));
    return Error::fromErrno("sd_notify(" + first_line + ")", -sent);
  }
  return Status::okStatus();
}

Result<std::optional<Duration>> LibsystemdNotifier::watchdogTimeout() {
  uint64_t usec = 0;
  // Checks WATCHDOG_PID against getpid() for us: a watchdog meant for another process is off.
  const int enabled = sd_watchdog_enabled(/*unset_environment=*/0, &usec);
  if (enabled < 0) {
    return Error::fromErrno("invalid WATCHDOG_USEC or WATCHDOG_PID", -enabled);
  }
  if (enabled == 0) {
    return std::optional<Duration>{};
  }
  const auto micros = static_cast<int64_t>(std::min(usec, kMaxWatchdogUsec));
  return std::optional<Duration>{std::chrono::microseconds(micros)};
}

}  // namespace vigie
