#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vigie {

// One sd_notify datagram from a workload, as far as vigie acts on it (sd_notify(3)): newline-
// separated assignments. Unknown assignments (MAINPID=, FDSTORE=, RELOADING=...) are ignored, as
// systemd ignores those it does not know.
struct NotifyMessage {
  bool ready = false;                 // READY=1
  std::optional<std::string> status;  // STATUS=text
  bool watchdog_ping = false;         // WATCHDOG=1
  bool watchdog_trigger = false;      // WATCHDOG=trigger: act as if the watchdog expired now.
  bool stopping = false;              // STOPPING=1

  bool empty() const {
    return !ready && !status && !watchdog_ping && !watchdog_trigger && !stopping;
  }
};

NotifyMessage parseNotifyMessage(std::string_view datagram);

}  // namespace vigie
