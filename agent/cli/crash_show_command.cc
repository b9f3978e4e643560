// `vigiectl crash show ID`: one incident in full, from GetCrash.
#include <chrono>

#include "agent/cli/commands.h"
#include "agent/cli/crash_calls.h"
#include "agent/cli/crash_details.h"
#include "agent/cli/json_output.h"

namespace vigie::cli {

ExitCode runCrashShow(CommandContext& context, const std::string& id) {
  v1::GetCrashResponse response;
  ExitCode failed = kExitOk;
  if (!fetchCrash(context, id, response, failed)) {
    return failed;
  }
  if (context.format == OutputFormat::kJson) {
    writeOut(toJsonDocument(response));
  } else {
    writeOut(
        renderCrashDetails(response, std::chrono::system_clock::now(), context.terminal.color));
  }
  return kExitOk;
}

}  // namespace vigie::cli
