#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/cli/agent_client.h"
#include "agent/cli/exit_codes.h"

namespace vigie::cli {

// One function per vigiectl command. Each prints its output (a table, or JSON with -o json),
// reports a failed call on stderr, and returns the process exit code.

ExitCode runStatus(CommandContext& context);
ExitCode runUnitShow(CommandContext& context, const std::string& unit);

enum class UnitAction { kStart, kStop, kRestart };
ExitCode runUnitAction(CommandContext& context, UnitAction action, const std::string& unit);

struct SignalArgs {
  std::string unit;
  std::string signal;  // "SIGHUP", "HUP" or "1"
  bool process_group = false;
};
ExitCode runSignal(CommandContext& context, const SignalArgs& args);

ExitCode runReload(CommandContext& context);
ExitCode runNode(CommandContext& context);

struct LogsArgs {
  std::string unit;
  bool follow = false;
  bool previous = false;
  bool stdout_only = false;
  bool stderr_only = false;
  std::optional<uint64_t> instance_id;
  std::string tail;  // a size ("64KiB", "1000"); empty: everything kept
};
ExitCode runLogs(CommandContext& context, const LogsArgs& args);

struct EventsArgs {
  bool follow = false;
  std::vector<std::string> units;  // empty: every unit
};
ExitCode runEvents(CommandContext& context, const EventsArgs& args);

// `crash ...`: incidents the agent recorded. ID is an incident id or a unique prefix of one.
struct CrashListArgs {
  std::string unit;
  std::string since;  // a duration back from now ("2h", "3d") or a time
  std::string fingerprint;
  std::string reason;
  uint32_t limit = 0;  // 0: the agent's default (100)
};
ExitCode runCrashList(CommandContext& context, const CrashListArgs& args);
ExitCode runCrashShow(CommandContext& context, const std::string& id);
ExitCode runCrashBacktrace(CommandContext& context, const std::string& id);

struct CrashCoreArgs {
  std::string id;
  std::string output_file;  // "-": stdout
  bool compressed = false;  // the stored zstd frame; else the raw core
};
ExitCode runCrashCore(CommandContext& context, const CrashCoreArgs& args);

struct CrashGdbArgs {
  std::string id;
  std::string debugger = "gdb";  // a command line: the program and its first arguments
};
ExitCode runCrashGdb(CommandContext& context, const CrashGdbArgs& args);

}  // namespace vigie::cli
