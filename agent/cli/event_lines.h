#pragma once

#include <string>
#include <vector>

#include "vigie/v1/agent.pb.h"

namespace vigie::cli {

// `vigiectl events`: one line per event, local time first.
//   2024-05-01 12:03:04.120  crasher  instance 2 ended: signal SIGSEGV (core dumped) after
//   3.0s; restarting now
// Agent-wide events (config reloads) name no unit: "-". The unit column is padded to
// `unit_width` so that the lines of units with names of different lengths line up.
std::string formatEvent(const v1::Event& event, bool color, size_t unit_width = 0);

// What the agent still remembers, as events: a start and (when ended) an exit per instance kept,
// oldest first. WatchEvents has no history; this is `vigiectl events` without -f.
std::vector<v1::Event> eventsFromHistory(const std::vector<v1::Unit>& units);

}  // namespace vigie::cli
