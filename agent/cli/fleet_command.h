#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace vigie::cli {

// Adds `vigiectl fleet --targets FILE [--interval 2s] [--once]` to `app`. The returned function
// runs the command once CLI11 has parsed the command line (call it only when the subcommand was
// given) and returns the process exit code: 0 every node up, 1 some down (or not answered yet),
// 3 none reachable, 2 a usage error (see docs/fleet.md).
std::function<int()> addFleetCommand(CLI::App& app);

}  // namespace vigie::cli
