#include <fmt/core.h>

#include "agent/cli/commands.h"
#include "agent/cli/json_output.h"
#include "agent/cli/reload_text.h"

namespace vigie::cli {

ExitCode runReload(CommandContext& context) {
  auto call = context.client.boundedContext();
  v1::ReloadConfigResponse response;
  const grpc::Status status = context.client.stub().ReloadConfig(call.get(), {}, &response);
  if (!status.ok()) {
    return context.client.report(status, "ReloadConfig");
  }
  if (context.format == OutputFormat::kJson) {
    writeOut(toJsonDocument(response));
    return response.applied() ? kExitOk : kExitFailed;
  }
  if (!response.applied()) {
    // The errors go to stderr like `vigied --check-config`'s, one file:line:col each.
    writeErr(renderConfigErrors(response));
    printError(
        fmt::format("reload rejected: {} error(s) in the config; nothing was changed "
                    "(check it with `vigied --check-config`)",
                    response.errors_size()));
    return kExitFailed;
  }
  writeOut("reloaded: " + describeReloadSummary(response.summary()) + "\n");
  return kExitOk;
}

}  // namespace vigie::cli
