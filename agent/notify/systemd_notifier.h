#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "agent/notify/notifier.h"
#include "vigie/dispatcher.h"
#include "vigie/result.h"
#include "vigie/time.h"

namespace vigie {

// The agent's side of the sd_notify protocol: READY=1 once started, STATUS= with a summary,
// WATCHDOG=1 pings from the loop, STOPPING=1 on the way out. Loop thread only.
//
// STATUS= is coalesced, because a crash-looping unit changes state several times a second and
// each send is a datagram systemd must parse: a text goes out from a timer, on the next loop
// turn or kStatusInterval after the previous STATUS=, whichever is later; only the newest text
// is sent, and never one systemd already shows.
class SystemdNotifier {
 public:
  // Told about a send that failed. Called once per run of failures (again only after a send
  // succeeded), so that a missing socket is logged once and not every watchdog period.
  using ErrorCallback = std::function<void(const Error&)>;

  static constexpr Duration kStatusInterval = 1s;
  // Floor for the ping period, so a tiny WATCHDOG_USEC cannot turn the loop into a busy loop.
  static constexpr Duration kMinWatchdogPeriod = 1ms;

  SystemdNotifier(Dispatcher& dispatcher, Notifier& notifier, ErrorCallback on_error = {});
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  // "READY=1\nSTATUS=<status_text>". Status texts given before this are not sent: start-up
  // churns through every unit's first transitions, and READY carries the settled summary.
  void ready(std::string_view status_text);
  // Coalesced STATUS=<text> (see above). Newlines are replaced: they would split the assignment.
  void status(std::string_view text);
  // "STOPPING=1". The watchdog keeps pinging until the agent exits: stopping units can take a
  // while, and systemd may still be watching.
  void stopping();

  // When the watchdog applies to us, pings WATCHDOG=1 now and then every half of WATCHDOG_USEC
  // (what sd_watchdog_enabled(3) recommends). Returns the ping period, nullopt when there is no
  // watchdog, or an error for malformed variables (no pings then).
  Result<std::optional<Duration>> startWatchdog();

  bool isReady() const { return ready_; }
  const std::string& lastSentStatus() const { return sent_status_; }

 private:
  void sendStatus(std::string text);
  void onStatusTimer();
  void ping();
  void send(std::string_view message);

  Dispatcher& dispatcher_;
  Notifier& notifier_;
  ErrorCallback on_error_;
  bool ready_ = false;
  bool failing_ = false;  // the last send failed: further failures are not reported.

  std::string sent_status_;
  MonoTime sent_status_at_{};
  std::optional<std::string> pending_status_;  // waiting for status_timer_.
  TimerPtr status_timer_;  // created with the notifier: the dispatcher outlives it.

  Duration watchdog_period_{};
  TimerPtr watchdog_timer_;
};

}  // namespace vigie
