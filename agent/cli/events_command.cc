// `vigiectl events`: WatchEvents has no history, so without -f the command tells what the agent
// still remembers (the starts and exits of the instances it keeps), and with -f it streams new
// events until interrupted.
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>

#include "agent/cli/commands.h"
#include "agent/cli/event_lines.h"
#include "agent/cli/json_output.h"
#include "agent/cli/terminal.h"

namespace vigie::cli {
namespace {

std::string render(const v1::Event& event, const CommandContext& context, size_t unit_width) {
  if (context.format == OutputFormat::kJson) {
    return toJsonLine(event);
  }
  return formatEvent(event, context.terminal.color, unit_width);
}

// The unit column fits the longest name (and the "-" of agent-wide events).
size_t unitWidth(const std::vector<std::string>& names) {
  size_t width = 1;
  for (const std::string& name : names) {
    width = std::max(width, name.size());
  }
  return width;
}

// The units the command is about: those named with --unit, else every unit the agent has.
bool unitNames(CommandContext& context, const EventsArgs& args, std::vector<std::string>& names,
               ExitCode& failed) {
  names = args.units;
  if (!names.empty()) {
    return true;
  }
  auto rpc = context.client.boundedContext();
  v1::ListUnitsResponse listed;
  const grpc::Status status = context.client.stub().ListUnits(rpc.get(), {}, &listed);
  if (!status.ok()) {
    failed = context.client.report(status, "ListUnits");
    return false;
  }
  for (const v1::Unit& unit : listed.units()) {
    names.push_back(unit.name());
  }
  return true;
}

ExitCode followEvents(CommandContext& context, const EventsArgs& args) {
  // The names only set the column width; a unit added later gets a wider cell, nothing more.
  std::vector<std::string> names;
  ExitCode failed = kExitOk;
  if (!unitNames(context, args, names, failed)) {
    return failed;
  }
  const size_t width = unitWidth(names);
  v1::WatchEventsRequest request;
  for (const std::string& unit : args.units) {
    request.add_units(unit);
  }
  auto rpc = AgentClient::openEndedContext();
  auto reader = context.client.stub().WatchEvents(rpc.get(), request);
  v1::WatchEventsResponse response;
  while (reader->Read(&response)) {
    if (!writeOut(render(response.event(), context, width)) || std::fflush(stdout) != 0) {
      rpc->TryCancel();
      reader->Finish();
      return kExitOk;
    }
  }
  const grpc::Status status = reader->Finish();
  if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
    printError(
        fmt::format("the agent cut this watch off: {} (this reader was too slow; run "
                    "`vigiectl events -f` again)",
                    status.error_message()));
    return kExitFailed;
  }
  if (!status.ok()) {
    return context.client.report(status, "WatchEvents");
  }
  return kExitOk;
}

ExitCode pastEvents(CommandContext& context, const EventsArgs& args) {
  std::vector<std::string> names;
  ExitCode failed = kExitOk;
  if (!unitNames(context, args, names, failed)) {
    return failed;
  }
  // ListUnits carries two instances per unit; GetUnit has every one kept.
  std::vector<v1::Unit> units;
  for (const std::string& name : names) {
    auto rpc = context.client.boundedContext();
    v1::GetUnitRequest request;
    request.set_name(name);
    v1::GetUnitResponse response;
    const grpc::Status status = context.client.stub().GetUnit(rpc.get(), request, &response);
    if (!status.ok()) {
      return context.client.report(status, "GetUnit");
    }
    units.push_back(response.unit());
  }
  const size_t width = unitWidth(names);
  for (const v1::Event& event : eventsFromHistory(units)) {
    if (!writeOut(render(event, context, width))) {
      return kExitOk;
    }
  }
  if (context.terminal.stdout_is_tty && context.format == OutputFormat::kTable) {
    writeOut(styled("(instance starts and exits the agent keeps; `vigiectl events -f` shows every "
                    "event as it happens)",
                    Style::kDim, context.terminal.color) +
             "\n");
  }
  return kExitOk;
}

}  // namespace

ExitCode runEvents(CommandContext& context, const EventsArgs& args) {
  return args.follow ? followEvents(context, args) : pastEvents(context, args);
}

}  // namespace vigie::cli
