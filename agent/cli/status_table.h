#pragma once

#include <string>

#include "vigie/time.h"
#include "vigie/v1/agent.pb.h"

namespace vigie::cli {

// `vigiectl status`: one line per unit, in config order.
//   UNIT     STATE        PID   UPTIME  RESTARTS  LAST EXIT                             NEXT
//   RESTART crasher  backing-off  -     -       4         signal SIGSEGV (core dumped) 2s ago
//   in 1.6s
// States are coloured when `color`, and say what the current instance's health adds ("starting
// (not ready)", "running (liveness failing 1/3)"). A STATUS column (the notify units' STATUS=)
// comes when a unit has one. A config without units says so instead of an empty table.
std::string renderStatus(const v1::ListUnitsResponse& response, WallTime now, bool color);

}  // namespace vigie::cli
