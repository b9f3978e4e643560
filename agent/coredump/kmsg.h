#pragma once

#include <string>

namespace vigie::coredump {

// One line to the kernel log (/dev/kmsg): the helper has no stderr, and this is the last
// resort when a crash cannot be recorded at all. Best effort.
void logToKmsg(const std::string& line);

}  // namespace vigie::coredump
