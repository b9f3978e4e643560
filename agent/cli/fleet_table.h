#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "agent/cli/fleet_node.h"
#include "vigie/time.h"

namespace vigie::cli {

// Counts over the whole fleet, for the summary line, the JSON summary and the exit code.
struct FleetSummary {
  size_t nodes = 0;
  size_t up = 0;
  size_t down = 0;
  size_t pending = 0;
  size_t units = 0;       // over the nodes that answered at least once
  size_t failing = 0;     // units failing (unitFailing), same nodes
  uint64_t restarts = 0;  // counted by the latest answers
};

FleetSummary summarizeFleet(const std::vector<FleetNode>& nodes);

// `vigiectl fleet` exit codes: 0 when every node is up, 3 when none is (nothing reachable: the
// same code as vigiectl's "agent unreachable"), 1 otherwise (some down or not answered yet).
int fleetExitCode(const FleetSummary& summary);

// "0.4s", "12s", "3m05s", "2h07m": how long ago the node last answered.
std::string formatAge(Duration age);

// The human table, one row per node in targets order, then one summary line:
//   NODE   STATUS  UNITS  FAILING  RESTARTS  HEARTBEAT  LOAD  NOTE
// RESTARTS are those counted by the latest answer ("-" when there is none to count from);
// HEARTBEAT is the age of the latest answer at `now`; LOAD is load1 from the latest usage;
// NOTE names the failing units, or says why the latest poll failed.
std::string renderFleetTable(const std::vector<FleetNode>& nodes, MonoTime now);

// One JSON object (no newline at the end) with the same figures, for scripts:
//   {"round":N,"time":"...Z","nodes":[{...}],"summary":{...}}
std::string renderFleetJson(const std::vector<FleetNode>& nodes, uint64_t round, MonoTime now,
                            WallTime wall_now);

}  // namespace vigie::cli
