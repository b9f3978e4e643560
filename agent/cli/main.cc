// vigiectl: the command line to a vigie agent. Wiring only: each command lives in its own file.
#include <grpc/support/log.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <string>

#include "agent/cli/agent_client.h"
#include "agent/cli/commands.h"
#include "agent/cli/endpoint.h"
#include "agent/cli/exit_codes.h"
#include "agent/cli/fleet_command.h"
#include "agent/cli/terminal.h"
#include "vigie/config.h"

namespace vigie::cli {
namespace {

struct GlobalOptions {
  EndpointOptions endpoint;
  std::string output = "table";
  std::string timeout = "5s";
};

// gRPC logs its own connection errors on stderr; vigiectl explains failures itself. GRPC_VERBOSITY
// (gRPC's own switch) brings them back for debugging.
void silenceGrpcLogs() {
  if (std::getenv("GRPC_VERBOSITY") == nullptr) {
    gpr_set_log_function([](gpr_log_func_args*) {});
  }
}

void addGlobalOptions(CLI::App& app, GlobalOptions& options) {
  app.add_option("--socket", options.endpoint.socket, "The agent's unix socket")
      ->envname("VIGIE_SOCKET")
      ->capture_default_str();
  app.add_option("--server", options.endpoint.server,
                 "A remote agent, host:port, over TCP with mTLS (needs --tls-cert and --tls-key)");
  app.add_option("--tls-cert", options.endpoint.tls_cert, "Client certificate (PEM)");
  app.add_option("--tls-key", options.endpoint.tls_key, "Client private key (PEM)");
  app.add_option("--tls-ca", options.endpoint.tls_ca,
                 "CA certificate(s) that signed the agent's certificate (PEM); default: the "
                 "system's");
  app.add_option("--tls-server-name", options.endpoint.tls_server_name,
                 "The name the agent's certificate carries, when it is not the --server host");
  app.add_option("-o,--output", options.output, "Output format: table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  app.add_option("--timeout", options.timeout,
                 "Deadline of calls that end by themselves (1.5s, 500ms, 1m)")
      ->capture_default_str();
}

}  // namespace
}  // namespace vigie::cli

int main(int argc, char** argv) {
  using namespace vigie::cli;  // NOLINT(google-build-using-namespace): main only wires.
  silenceGrpcLogs();

  CLI::App app{"vigiectl: inspect and drive a vigie node agent."};
  app.require_subcommand(1);
  // Global options may come after the command too: `vigiectl status -o json`.
  app.fallthrough();
  GlobalOptions options;
  addGlobalOptions(app, options);

  app.add_subcommand("status", "One line per unit: state, pid, uptime, restarts, last exit");

  std::string unit_name;
  auto* unit = app.add_subcommand("unit", "One unit in detail");
  unit->require_subcommand(1);
  auto* show = unit->add_subcommand("show", "Configuration, counters and every instance kept");
  show->add_option("name", unit_name, "The unit")->required();

  auto addUnitCommand = [&](const char* name, const char* help) {
    auto* command = app.add_subcommand(name, help);
    command->add_option("name", unit_name, "The unit")->required();
    return command;
  };
  auto* start = addUnitCommand("start", "Start a unit (stopped, exited or failed)");
  auto* stop = addUnitCommand("stop", "Stop a unit; it stays stopped until started");
  auto* restart = addUnitCommand("restart", "Stop the unit's instance and start a new one");

  SignalArgs signal_args;
  auto* signal = app.add_subcommand("signal", "Send a signal to a unit's process");
  signal->add_option("name", signal_args.unit, "The unit")->required();
  signal->add_option("signal", signal_args.signal, "HUP, SIGHUP or a number")->required();
  signal->add_flag("--group", signal_args.process_group,
                   "To the instance's whole process group, not only its main process");

  app.add_subcommand("reload", "Reload the agent's config; a config with errors is not applied");
  app.add_subcommand("node", "The node and the agent: kernel, CPUs, memory, load, pressure");

  LogsArgs logs_args;
  uint64_t instance_id = 0;
  auto* logs = app.add_subcommand("logs", "A unit's captured output (both streams by default)");
  logs->add_option("name", logs_args.unit, "The unit")->required();
  logs->add_flag("-f,--follow", logs_args.follow,
                 "Keep printing new output, across restarts, until interrupted");
  auto* previous =
      logs->add_flag("--previous", logs_args.previous, "The instance before the latest one");
  auto* instance = logs->add_option("--instance", instance_id, "An instance by its id");
  instance->excludes(previous);
  auto* only_stdout = logs->add_flag("--stdout", logs_args.stdout_only, "Only stdout");
  logs->add_flag("--stderr", logs_args.stderr_only, "Only stderr")->excludes(only_stdout);
  logs->add_option("--tail", logs_args.tail,
                   "At most this many bytes of what is kept, per stream (1000, 4KiB)");

  EventsArgs events_args;
  auto* events = app.add_subcommand(
      "events", "Instance starts and exits the agent keeps; with -f, every event as it happens");
  events->add_flag("-f,--follow", events_args.follow, "Watch new events until interrupted");
  events->add_option("--unit", events_args.units, "Only this unit's events (repeatable)");

  auto* crash = app.add_subcommand("crash", "Crash incidents: list, show, bt, core, gdb");
  crash->require_subcommand(1);
  CrashListArgs crash_list_args;
  auto* crash_list = crash->add_subcommand("list", "Crash incidents on record, newest first");
  crash_list->add_option("--unit", crash_list_args.unit, "Only this unit's incidents");
  crash_list->add_option("--since", crash_list_args.since,
                         "Only crashes since a time (2024-05-01 12:00) or this long ago (2h, 3d)");
  crash_list->add_option("--fingerprint", crash_list_args.fingerprint,
                         "Only this fingerprint (or the ones it is a prefix of)");
  crash_list->add_option("--reason", crash_list_args.reason,
                         "Only this reason: exited, signaled, core-dumped or lost");
  crash_list->add_option("--limit", crash_list_args.limit, "At most this many (default 100)");
  std::string crash_id;
  auto addCrashCommand = [&](const char* name, const char* help) {
    auto* command = crash->add_subcommand(name, help);
    command->add_option("id", crash_id, "The incident's id, or a unique prefix of it")->required();
    return command;
  };
  auto* crash_show = addCrashCommand("show", "One incident: what crashed, why, where, its core");
  auto* crash_bt =
      addCrashCommand("bt", "Every thread's backtrace, the crashing thread first (marked *)");
  CrashCoreArgs crash_core_args;
  auto* crash_core = addCrashCommand("core", "Write the incident's core dump to a file");
  crash_core
      ->add_option("--output-file", crash_core_args.output_file,
                   "Where to write it (- for stdout, when not a terminal)")
      ->required();
  crash_core->add_flag("--compressed", crash_core_args.compressed,
                       "The stored zstd frame (smaller) instead of the raw core");
  CrashGdbArgs crash_gdb_args;
  auto* crash_gdb = addCrashCommand(
      "gdb", "Debug the core: gdb on the crashed executable and its core (like coredumpctl debug)");
  crash_gdb
      ->add_option("--debugger", crash_gdb_args.debugger,
                   "The debugger's command line; the executable and the core are added to it")
      ->capture_default_str();

  auto fleet = addFleetCommand(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help is a "parse error" whose exit code is 0; every other one is a usage error.
    return app.exit(error) == 0 ? kExitOk : kExitUsage;
  }
  if (app.got_subcommand("fleet")) {
    return fleet();
  }

  auto timeout = vigie::parseDuration(options.timeout);
  if (!timeout || *timeout <= vigie::Duration::zero()) {
    printError("--timeout: " +
               (timeout ? std::string("must be more than 0") : timeout.error().message));
    return kExitUsage;
  }
  auto endpoint = openEndpoint(options.endpoint);
  if (!endpoint) {
    printError(endpoint.error().message);
    return kExitUsage;
  }
  AgentClient client(std::move(*endpoint), *timeout, options.timeout);
  CommandContext context{client,
                         options.output == "json" ? OutputFormat::kJson : OutputFormat::kTable,
                         detectTerminal()};

  if (app.got_subcommand("status")) {
    return runStatus(context);
  }
  if (unit->parsed() && show->parsed()) {
    return runUnitShow(context, unit_name);
  }
  if (start->parsed()) {
    return runUnitAction(context, UnitAction::kStart, unit_name);
  }
  if (stop->parsed()) {
    return runUnitAction(context, UnitAction::kStop, unit_name);
  }
  if (restart->parsed()) {
    return runUnitAction(context, UnitAction::kRestart, unit_name);
  }
  if (signal->parsed()) {
    return runSignal(context, signal_args);
  }
  if (app.got_subcommand("reload")) {
    return runReload(context);
  }
  if (app.got_subcommand("node")) {
    return runNode(context);
  }
  if (logs->parsed()) {
    if (instance->count() > 0) {
      logs_args.instance_id = instance_id;
    }
    return runLogs(context, logs_args);
  }
  if (events->parsed()) {
    return runEvents(context, events_args);
  }
  if (crash_list->parsed()) {
    return runCrashList(context, crash_list_args);
  }
  if (crash_show->parsed()) {
    return runCrashShow(context, crash_id);
  }
  if (crash_bt->parsed()) {
    return runCrashBacktrace(context, crash_id);
  }
  if (crash_core->parsed()) {
    crash_core_args.id = crash_id;
    return runCrashCore(context, crash_core_args);
  }
  if (crash_gdb->parsed()) {
    crash_gdb_args.id = crash_id;
    return runCrashGdb(context, crash_gdb_args);
  }
  return kExitUsage;
}
