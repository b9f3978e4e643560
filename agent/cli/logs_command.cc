#include <fmt/core.h>

#include <cstdio>

#include "agent/cli/commands.h"
#include "agent/cli/json_output.h"
#include "agent/cli/log_printer.h"
#include "agent/cli/unit_words.h"
#include "vigie/config.h"

namespace vigie::cli {
namespace {

// Why instance `id` of `unit` ended, when the agent already knows; "" otherwise. Only for the
// TTY marker, so a failure here is not worth reporting.
std::string exitReasonOf(AgentClient& client, const std::string& unit, uint64_t id) {
  auto rpc = client.boundedContext();
  v1::GetUnitRequest request;
  request.set_name(unit);
  v1::GetUnitResponse response;
  if (!client.stub().GetUnit(rpc.get(), request, &response).ok()) {
    return "";
  }
  for (const v1::Instance& instance : response.unit().instances()) {
    if (instance.id() == id && instance.has_exit()) {
      return exitReason(instance.exit());
    }
  }
  return "";
}

bool flushOut() {
  return std::fflush(stdout) == 0;
}

}  // namespace

ExitCode runLogs(CommandContext& context, const LogsArgs& args) {
  v1::ReadOutputRequest request;
  request.set_unit(args.unit);
  if (args.instance_id) {
    request.set_instance(v1::INSTANCE_SELECTOR_ID);
    request.set_instance_id(*args.instance_id);
  } else if (args.previous) {
    request.set_instance(v1::INSTANCE_SELECTOR_PREVIOUS);
  } else {
    request.set_instance(v1::INSTANCE_SELECTOR_CURRENT);
  }
  if (args.stdout_only) {
    request.add_streams(v1::OUTPUT_STREAM_STDOUT);
  }
  if (args.stderr_only) {
    request.add_streams(v1::OUTPUT_STREAM_STDERR);
  }
  if (!args.tail.empty()) {
    const Result<uint64_t> tail = parseSize(args.tail);
    if (!tail) {
      printError("--tail: " + tail.error().message);
      return kExitUsage;
    }
    request.set_tail_bytes(*tail);
  }
  request.set_follow(args.follow);

  auto rpc = args.follow ? AgentClient::openEndedContext() : context.client.boundedContext();
  auto reader = context.client.stub().ReadOutput(rpc.get(), request);
  const bool json = context.format == OutputFormat::kJson;
  LogPrinter printer({.decorate = context.terminal.stdout_is_tty && !json,
                      .color = context.terminal.color,
                      .follow = args.follow,
                      .both_streams = !args.stdout_only && !args.stderr_only});
  v1::ReadOutputResponse chunk;
  while (reader->Read(&chunk)) {
    bool written = true;
    if (json) {
      written = writeOut(toJsonLine(chunk));
    } else {
      const LogPrinter::Output output = printer.onChunk(chunk);
      writeErr(output.err);
      written = writeOut(output.out);
      if (chunk.instance_ended() && context.terminal.stdout_is_tty) {
        written = written && writeOut(printer.endMarker(
                                 chunk.instance_id(),
                                 exitReasonOf(context.client, args.unit, chunk.instance_id())));
      }
    }
    // Follow mode shows output as it comes; a closed stdout (`| head`) ends the command.
    if (!written || (args.follow && !flushOut())) {
      rpc->TryCancel();
      reader->Finish();
      return kExitOk;
    }
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) {
    return context.client.report(status, "ReadOutput");
  }
  return kExitOk;
}

}  // namespace vigie::cli
