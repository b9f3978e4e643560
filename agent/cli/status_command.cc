#include <chrono>

#include "agent/cli/commands.h"
#include "agent/cli/json_output.h"
#include "agent/cli/status_table.h"

namespace vigie::cli {

ExitCode runStatus(CommandContext& context) {
  auto call = context.client.boundedContext();
  v1::ListUnitsResponse response;
  const grpc::Status status = context.client.stub().ListUnits(call.get(), {}, &response);
  if (!status.ok()) {
    return context.client.report(status, "ListUnits");
  }
  if (context.format == OutputFormat::kJson) {
    writeOut(toJsonDocument(response));
  } else {
    writeOut(renderStatus(response, std::chrono::system_clock::now(), context.terminal.color));
  }
  return kExitOk;
}

}  // namespace vigie::cli
