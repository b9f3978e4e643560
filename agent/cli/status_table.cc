#include "agent/cli/status_table.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "agent/cli/human.h"
#include "agent/cli/table.h"
#include "agent/cli/unit_words.h"

namespace vigie::cli {

std::string renderStatus(const v1::ListUnitsResponse& response, WallTime now, bool color) {
  if (response.units_size() == 0) {
    return "No units: the agent's configuration declares no workloads.\n";
  }
  // The STATUS= of notify units gets a column when one of them sent some.
  const bool with_status =
      std::any_of(response.units().begin(), response.units().end(), [](const v1::Unit& unit) {
        const v1::Instance* current = currentInstance(unit);
        return current != nullptr && !current->notify_status().empty();
      });
  std::vector<std::string> headers = {"UNIT",     "STATE",     "PID",         "UPTIME",
                                      "RESTARTS", "LAST EXIT", "NEXT RESTART"};
  if (with_status) {
    headers.emplace_back("STATUS");
  }
  Table table(std::move(headers));
  for (const v1::Unit& unit : response.units()) {
    const v1::Instance* current = currentInstance(unit);
    std::string uptime = "-";
    if (current != nullptr && current->has_start_time()) {
      uptime = humanDuration(
          std::max<Duration>(Duration::zero(), now - fromProto(current->start_time())));
    }
    std::vector<Cell> row = {
        {unit.name()},
        {stateWithHealth(unit), stateStyle(unit.state())},
        {unit.pid() > 0 ? std::to_string(unit.pid()) : "-"},
        {uptime},
        {std::to_string(unit.total_restarts())},
        {lastExitSummary(unit, now)},
        {nextStartSummary(unit, now)},
    };
    if (with_status) {
      const bool has = current != nullptr && !current->notify_status().empty();
      row.push_back({has ? current->notify_status() : "-"});
    }
    table.addRow(std::move(row));
  }
  return table.render(color);
}

}  // namespace vigie::cli
