// `vigiectl crash bt ID`: every thread of an incident's backtrace, the crashing one first.
#include "agent/cli/commands.h"
#include "agent/cli/crash_backtrace.h"
#include "agent/cli/crash_calls.h"
#include "agent/cli/json_output.h"

namespace vigie::cli {

ExitCode runCrashBacktrace(CommandContext& context, const std::string& id) {
  v1::GetCrashResponse response;
  ExitCode failed = kExitOk;
  if (!fetchCrash(context, id, response, failed)) {
    return failed;
  }
  const v1::CrashIncident& incident = response.incident();
  if (context.format == OutputFormat::kJson) {
    writeOut(toJsonDocument(incident.backtrace()));
    return kExitOk;
  }
  const std::string what =
      incident.signal_name().empty() ? incident.reason() : incident.signal_name();
  writeOut("Crash " + incident.id() + ": " +
           (incident.unit().empty() ? "node-level" : incident.unit()) + ", " + what + " in " +
           (incident.exe().empty() ? "?" : incident.exe()) + "\n");
  writeOut(renderBacktrace(incident.backtrace(), context.terminal.color));
  return kExitOk;
}

}  // namespace vigie::cli
