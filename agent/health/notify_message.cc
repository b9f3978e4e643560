#include "agent/health/notify_message.h"

namespace vigie {

NotifyMessage parseNotifyMessage(std::string_view datagram) {
  NotifyMessage message;
  while (!datagram.empty()) {
    const size_t end = datagram.find('\n');
    const std::string_view line = datagram.substr(0, end);
    datagram.remove_prefix(end == std::string_view::npos ? datagram.size() : end + 1);
    if (line == "READY=1") {
      message.ready = true;
    } else if (line.starts_with("STATUS=")) {
      message.status = std::string(line.substr(7));  // the last one wins, as in systemd.
    } else if (line == "WATCHDOG=1") {
      message.watchdog_ping = true;
    } else if (line == "WATCHDOG=trigger") {
      message.watchdog_trigger = true;
    } else if (line == "STOPPING=1") {
      message.stopping = true;
    }
  }
  return message;
}

}  // namespace vigie
