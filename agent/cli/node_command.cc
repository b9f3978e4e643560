#include <chrono>

#include "agent/cli/commands.h"
#include "agent/cli/json_output.h"
#include "agent/cli/node_details.h"

namespace vigie::cli {

ExitCode runNode(CommandContext& context) {
  auto call = context.client.boundedContext();
  v1::GetNodeResponse response;
  const grpc::Status status = context.client.stub().GetNode(call.get(), {}, &response);
  if (!status.ok()) {
    return context.client.report(status, "GetNode");
  }
  if (context.format == OutputFormat::kJson) {
    writeOut(toJsonDocument(response));
  } else {
    writeOut(renderNode(response, std::chrono::system_clock::now()));
  }
  return kExitOk;
}

}  // namespace vigie::cli
