#pragma once

#include <string>

#include "vigie/time.h"
#include "vigie/v1/agent.pb.h"

namespace vigie::cli {

// What a command left a unit in, in one line: "web: running, pid 1234";
// "crasher: backing-off, next start in 1.6s"; "web: stopping, pid 1234".
std::string unitSentence(const v1::Unit& unit, WallTime now, bool color);

}  // namespace vigie::cli
