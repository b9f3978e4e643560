#pragma once

#include <string>
#include <vector>

#include "vigie/time.h"
#include "vigie/v1/agent.pb.h"

namespace vigie::cli {

// `vigiectl unit show NAME`: the unit's state and counters, its configuration, and every
// instance the agent kept, with exit details and resource usage.
std::string renderUnitDetails(const v1::GetUnitResponse& response, WallTime now, bool color);

// A command line as a shell would take it back: arguments with blanks or quotes are quoted.
std::string shellJoin(const std::vector<std::string>& argv);

}  // namespace vigie::cli
