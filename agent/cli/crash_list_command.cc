// `vigiectl crash list`: the incidents on record, newest first, with filters.
#include <chrono>

#include "agent/cli/commands.h"
#include "agent/cli/crash_table.h"
#include "agent/cli/crash_words.h"
#include "agent/cli/json_output.h"

namespace vigie::cli {

ExitCode runCrashList(CommandContext& context, const CrashListArgs& args) {
  v1::ListCrashesRequest request;
  request.set_unit(args.unit);
  request.set_fingerprint(args.fingerprint);
  request.set_reason(args.reason);
  request.set_limit(args.limit);
  if (!args.since.empty()) {
    auto since = parseSince(args.since, std::chrono::system_clock::now());
    if (!since) {
      printError("--since: " + since.error().message);
      return kExitUsage;
    }
    // Seconds: nanoseconds since 1970 overflow 64 bits in 2262, and a year is a valid --since.
    request.mutable_since()->set_seconds(std::chrono::system_clock::to_time_t(*since));
  }
  auto rpc = context.client.boundedContext();
  v1::ListCrashesResponse response;
  const grpc::Status status = context.client.stub().ListCrashes(rpc.get(), request, &response);
  if (!status.ok()) {
    return context.client.report(status, "ListCrashes");
  }
  if (context.format == OutputFormat::kJson) {
    writeOut(toJsonDocument(response));
  } else {
    const bool filtered = !args.unit.empty() || !args.since.empty() || !args.fingerprint.empty() ||
                          !args.reason.empty();
    writeOut(renderCrashList(response, context.terminal.color, filtered));
  }
  return kExitOk;
}

}  // namespace vigie::cli
