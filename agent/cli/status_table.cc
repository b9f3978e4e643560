#include "agent/cli/status_table.h"

#include <algorithm>

#include "agent/cli/human.h"
#include "agent/cli/table.h"
#include "agent/cli/unit_words.h"

namespace vigie::cli {

std::string renderStatus(const v1::ListUnitsResponse& response, WallTime now, bool color) {
  if (response.units_size() == 0) {
    return "No units: the agent's configuration declares no workloads.\n";
  }
  Table table({"UNIT", "STATE", "PID", "UPTIME", "RESTARTS", "LAST EXIT", "NEXT RESTART"});
  for (const v1::Unit& unit : response.units()) {
    const v1::Instance* current = currentInstance(unit);
    std::string uptime = "-";
    if (current != nullptr && current->has_start_time()) {
      uptime = humanDuration(
          std::max<Duration>(Duration::zero(), now - fromProto(current->start_time())));
    }
    table.addRow({
        {unit.name()},
        {stateName(unit.state()), stateStyle(unit.state())},
        {unit.pid() > 0 ? std::to_string(unit.pid()) : "-"},
        {uptime},
        {std::to_string(unit.total_restarts())},
        {lastExitSummary(unit, now)},
        {nextStartSummary(unit, now)},
    });
  }
  return table.render(color);
}

}  // namespace vigie::cli
