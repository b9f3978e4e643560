// `unit show`, `start`, `stop`, `restart` and `signal`.
#include <fmt/core.h>

#include <chrono>

#include "agent/cli/commands.h"
#include "agent/cli/json_output.h"
#include "agent/cli/unit_details.h"
#include "agent/cli/unit_sentence.h"
#include "vigie/config.h"

namespace vigie::cli {
namespace {

WallTime now() {
  return std::chrono::system_clock::now();
}

// The unit a command left behind, as a sentence or as JSON (the command's response).
template <class Response>
ExitCode printUnitResult(CommandContext& context, const Response& response) {
  if (context.format == OutputFormat::kJson) {
    writeOut(toJsonDocument(response));
  } else {
    writeOut(unitSentence(response.unit(), now(), context.terminal.color));
  }
  return kExitOk;
}

template <class Request, class Response, class Call>
ExitCode callUnitCommand(CommandContext& context, const std::string& unit, Call call,
                         std::string_view method) {
  auto rpc = context.client.boundedContext();
  Request request;
  request.set_name(unit);
  Response response;
  const grpc::Status status = call(rpc.get(), request, &response);
  if (!status.ok()) {
    return context.client.report(status, method);
  }
  return printUnitResult(context, response);
}

}  // namespace

ExitCode runUnitShow(CommandContext& context, const std::string& unit) {
  auto rpc = context.client.boundedContext();
  v1::GetUnitRequest request;
  request.set_name(unit);
  v1::GetUnitResponse response;
  const grpc::Status status = context.client.stub().GetUnit(rpc.get(), request, &response);
  if (!status.ok()) {
    return context.client.report(status, "GetUnit");
  }
  if (context.format == OutputFormat::kJson) {
    writeOut(toJsonDocument(response));
  } else {
    writeOut(renderUnitDetails(response, now(), context.terminal.color));
  }
  return kExitOk;
}

ExitCode runUnitAction(CommandContext& context, UnitAction action, const std::string& unit) {
  v1::Agent::Stub& stub = context.client.stub();
  switch (action) {
    case UnitAction::kStart:
      return callUnitCommand<v1::StartUnitRequest, v1::StartUnitResponse>(
          context, unit,
          [&](auto* rpc, const auto& request, auto* response) {
            return stub.StartUnit(rpc, request, response);
          },
          "StartUnit");
    case UnitAction::kStop:
      return callUnitCommand<v1::StopUnitRequest, v1::StopUnitResponse>(
          context, unit,
          [&](auto* rpc, const auto& request, auto* response) {
            return stub.StopUnit(rpc, request, response);
          },
          "StopUnit");
    case UnitAction::kRestart:
      return callUnitCommand<v1::RestartUnitRequest, v1::RestartUnitResponse>(
          context, unit,
          [&](auto* rpc, const auto& request, auto* response) {
            return stub.RestartUnit(rpc, request, response);
          },
          "RestartUnit");
  }
  return kExitFailed;
}

ExitCode runSignal(CommandContext& context, const SignalArgs& args) {
  const Result<int> signal = parseSignal(args.signal);
  if (!signal) {
    printError(
        fmt::format("{} (a name such as HUP or SIGHUP, or a number)", signal.error().message));
    return kExitUsage;
  }
  v1::SignalUnitRequest request;
  request.set_name(args.unit);
  request.set_signal(static_cast<uint32_t>(*signal));
  request.set_process_group(args.process_group);
  v1::SignalUnitResponse ignored;
  {
    auto rpc = context.client.boundedContext();
    const grpc::Status status = context.client.stub().SignalUnit(rpc.get(), request, &ignored);
    if (!status.ok()) {
      return context.client.report(status, "SignalUnit");
    }
  }
  // The signal is sent; what it did shows in the unit's state.
  auto rpc = context.client.boundedContext();
  v1::GetUnitRequest get;
  get.set_name(args.unit);
  v1::GetUnitResponse response;
  const grpc::Status status = context.client.stub().GetUnit(rpc.get(), get, &response);
  if (!status.ok()) {
    return context.client.report(status, "GetUnit");
  }
  if (context.format == OutputFormat::kJson) {
    writeOut(toJsonDocument(response));
    return kExitOk;
  }
  writeOut(fmt::format("sent {} to {}'s {}\n", signalName(*signal), args.unit,
                       args.process_group ? "process group" : "main process"));
  writeOut(unitSentence(response.unit(), now(), context.terminal.color));
  return kExitOk;
}

}  // namespace vigie::cli
