// PLACEHOLDER: the fleet poller replaces this.
#include "agent/cli/fleet_command.h"

#include <cstdio>

namespace vigie::cli {

std::function<int()> addFleetCommand(CLI::App& app) {
  app.add_subcommand("fleet", "Poll many agents (not built yet)");
  return [] {
    std::fputs("vigiectl fleet: not built yet\n", stderr);
    return 1;
  };
}

}  // namespace vigie::cli
