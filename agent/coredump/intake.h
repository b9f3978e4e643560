#pragma once

#include <string>
#include <string_view>

#include "vigie/result.h"

namespace vigie::coredump {

// Tells vigied that a spool entry is ready: one datagram holding the entry's name, sent to its
// intake socket (a unix datagram socket). Never blocks; when vigied is down the entry simply
// waits in the spool for its next start.
Status notifyIntake(const std::string& socket_path, std::string_view entry_name);

}  // namespace vigie::coredump
