#include "agent/api/service/agent_service.h"

#include <csignal>
#include <string>
#include <utility>
#include <vector>

#include "agent/api/crash_convert.h"
#include "agent/api/heartbeat.h"
#include "agent/api/proto_convert.h"
#include "agent/api/service/unit_names.h"

namespace vigie {
namespace {

using grpc::StatusCode;

grpc::Status invalid(const std::string& message) {
  return grpc::Status(StatusCode::INVALID_ARGUMENT, message);
}

grpc::Status stopping() {
  return grpc::Status(StatusCode::UNAVAILABLE, "vigied is stopping");
}

void setVersion(const NodeSnapshot& snapshot, v1::StateVersion* out) {
  out->set_epoch(snapshot.epoch);
  out->set_revision(snapshot.revision);
}

grpc::Status validateReadOutput(const v1::ReadOutputRequest& request) {
  if (request.unit().empty()) {
    return invalid("unit is required");
  }
  switch (request.instance()) {
    case v1::INSTANCE_SELECTOR_UNSPECIFIED:
    case v1::INSTANCE_SELECTOR_CURRENT:
    case v1::INSTANCE_SELECTOR_PREVIOUS:
      if (request.instance_id() != 0) {
        return invalid("instance_id goes with instance INSTANCE_SELECTOR_ID only");
      }
      break;
    case v1::INSTANCE_SELECTOR_ID:
      if (request.instance_id() == 0) {
        return invalid("INSTANCE_SELECTOR_ID needs an instance_id (instances count from 1)");
      }
      break;
    default:
      return invalid("unknown instance selector " + std::to_string(request.instance()));
  }
  for (const int stream : request.streams()) {
    if (stream != v1::OUTPUT_STREAM_STDOUT && stream != v1::OUTPUT_STREAM_STDERR) {
      return invalid("unknown output stream " + std::to_string(stream) +
                     " (OUTPUT_STREAM_STDOUT or OUTPUT_STREAM_STDERR)");
    }
  }
  return grpc::Status::OK;
}

}  // namespace

AgentService::AgentService(Deps deps, v1::NodeInfo node, ApiLimitsSpec limits)
    : deps_(deps), node_(std::move(node)), limits_(limits), streams_(limits.max_streams) {}

void AgentService::shutdown() {
  pending_.closeAll([this](PendingCall& call) {
    record(call.method, stopping());
    call.reactor->Finish(stopping());
  });
  streams_.closeAll(stopping());
}

void AgentService::record(std::string_view method, const grpc::Status& status) {
  if (deps_.recorder != nullptr) {
    deps_.recorder->record(method, status.error_code());
  }
}

grpc::ServerUnaryReactor* AgentService::finishNow(grpc::ServerUnaryReactor* reactor,
                                                  std::string_view method,
                                                  const grpc::Status& status) {
  record(method, status);
  reactor->Finish(status);
  return reactor;
}

std::shared_ptr<PendingCall> AgentService::pendingCall(grpc::ServerUnaryReactor* reactor,
                                                       std::string_view method) {
  auto call = pending_.add(reactor, method);
  if (call == nullptr) {
    finishNow(reactor, method, stopping());
  }
  return call;
}

void AgentService::complete(const std::shared_ptr<PendingCall>& call, const grpc::Status& status) {
  pending_.remove(call.get());
  finishNow(call->reactor, call->method, status);
}

// --- Reads: from the published snapshot, on the gRPC thread ---------------------------------

grpc::ServerUnaryReactor* AgentService::GetNode(grpc::CallbackServerContext* context,
                                                const v1::GetNodeRequest* /*request*/,
                                                v1::GetNodeResponse* response) {
  auto* reactor = context->DefaultReactor();
  if (grpc::Status access = deps_.access.check(*context, ApiRole::kRead, "GetNode"); !access.ok()) {
    return finishNow(reactor, "GetNode", access);
  }
  *response->mutable_node() = node_;
  if (deps_.usage != nullptr) {
    fillUsage(deps_.usage->sample(), response->mutable_usage());
  }
  if (const NodeSnapshotPtr snapshot = deps_.publisher.current(); snapshot->crashes.enabled) {
    fillCorePattern(snapshot->crashes.core_pattern, response->mutable_core_pattern());
  }
  return finishNow(reactor, "GetNode", grpc::Status::OK);
}

grpc::ServerUnaryReactor* AgentService::ListUnits(grpc::CallbackServerContext* context,
                                                  const v1::ListUnitsRequest* /*request*/,
                                                  v1::ListUnitsResponse* response) {
  auto* reactor = context->DefaultReactor();
  if (grpc::Status access = deps_.access.check(*context, ApiRole::kRead, "ListUnits");
      !access.ok()) {
    return finishNow(reactor, "ListUnits", access);
  }
  const NodeSnapshotPtr snapshot = deps_.publisher.current();
  for (const UnitEntry& unit : snapshot->units) {
    fillUnit(unit, snapshot->clock, kSummaryInstances, response->add_units());
  }
  setVersion(*snapshot, response->mutable_version());
  return finishNow(reactor, "ListUnits", grpc::Status::OK);
}

grpc::ServerUnaryReactor* AgentService::GetUnit(grpc::CallbackServerContext* context,
                                                const v1::GetUnitRequest* request,
                                                v1::GetUnitResponse* response) {
  auto* reactor = context->DefaultReactor();
  if (grpc::Status access = deps_.access.check(*context, ApiRole::kRead, "GetUnit"); !access.ok()) {
    return finishNow(reactor, "GetUnit", access);
  }
  if (request->name().empty()) {
    return finishNow(reactor, "GetUnit", invalid("name is required"));
  }
  const NodeSnapshotPtr snapshot = deps_.publisher.current();
  const UnitEntry* unit = snapshot->find(request->name());
  if (unit == nullptr) {
    std::vector<std::string> names;
    for (const UnitEntry& entry : snapshot->units) {
      names.push_back(entry.view.name);
    }
    return finishNow(
        reactor, "GetUnit",
        grpc::Status(StatusCode::NOT_FOUND, unknownUnitMessage(request->name(), names)));
  }
  fillUnit(*unit, snapshot->clock, kAllInstances, response->mutable_unit());
  fillUnitConfig(unit->view.config, response->mutable_config());
  setVersion(*snapshot, response->mutable_version());
  return finishNow(reactor, "GetUnit", grpc::Status::OK);
}

grpc::ServerUnaryReactor* AgentService::Heartbeat(grpc::CallbackServerContext* context,
                                                  const v1::HeartbeatRequest* request,
                                                  v1::HeartbeatResponse* response) {
  auto* reactor = context->DefaultReactor();
  if (grpc::Status access = deps_.access.check(*context, ApiRole::kRead, "Heartbeat");
      !access.ok()) {
    return finishNow(reactor, "Heartbeat", access);
  }
  *response = buildHeartbeat(*deps_.publisher.current(), *request, deps_.usage);
  return finishNow(reactor, "Heartbeat", grpc::Status::OK);
}

// --- Commands: applied on the loop, answered from it -----------------------------------------

grpc::ServerUnaryReactor* AgentService::unitCommand(grpc::CallbackServerContext* context,
                                                    std::string_view method, UnitCommand command,
                                                    const std::string& name, v1::Unit* out) {
  auto* reactor = context->DefaultReactor();
  if (grpc::Status access = deps_.access.check(*context, ApiRole::kAdmin, method); !access.ok()) {
    return finishNow(reactor, method, access);
  }
  if (name.empty()) {
    return finishNow(reactor, method, invalid("name is required"));
  }
  auto call = pendingCall(reactor, method);
  if (call == nullptr) {
    return reactor;
  }
  deps_.dispatcher.post([this, call, command, name, out] {
    if (!call->claim()) {
      return;  // answered by shutdown() already.
    }
    deps_.backend.unitCommand(command, name, [this, call, out](UnitReply reply) {
      if (reply.status.ok()) {
        *out = std::move(reply.unit);
      }
      complete(call, reply.status);
    });
  });
  return reactor;
}

grpc::ServerUnaryReactor* AgentService::StartUnit(grpc::CallbackServerContext* context,
                                                  const v1::StartUnitRequest* request,
                                                  v1::StartUnitResponse* response) {
  return unitCommand(context, "StartUnit", UnitCommand::kStart, request->name(),
                     response->mutable_unit());
}

grpc::ServerUnaryReactor* AgentService::StopUnit(grpc::CallbackServerContext* context,
                                                 const v1::StopUnitRequest* request,
                                                 v1::StopUnitResponse* response) {
  return unitCommand(context, "StopUnit", UnitCommand::kStop, request->name(),
                     response->mutable_unit());
}

grpc::ServerUnaryReactor* AgentService::RestartUnit(grpc::CallbackServerContext* context,
                                                    const v1::RestartUnitRequest* request,
                                                    v1::RestartUnitResponse* response) {
  return unitCommand(context, "RestartUnit", UnitCommand::kRestart, request->name(),
                     response->mutable_unit());
}

grpc::ServerUnaryReactor* AgentService::SignalUnit(grpc::CallbackServerContext* context,
                                                   const v1::SignalUnitRequest* request,
                                                   v1::SignalUnitResponse* /*response*/) {
  constexpr std::string_view kMethod = "SignalUnit";
  auto* reactor = context->DefaultReactor();
  if (grpc::Status access = deps_.access.check(*context, ApiRole::kAdmin, kMethod); !access.ok()) {
    return finishNow(reactor, kMethod, access);
  }
  if (request->name().empty()) {
    return finishNow(reactor, kMethod, invalid("name is required"));
  }
  const uint32_t signal = request->signal();
  if (signal < 1 || signal > static_cast<uint32_t>(SIGRTMAX)) {
    return finishNow(reactor, kMethod,
                     invalid("signal " + std::to_string(signal) + " is not a signal number (1 to " +
                             std::to_string(SIGRTMAX) + ")"));
  }
  auto call = pendingCall(reactor, kMethod);
  if (call == nullptr) {
    return reactor;
  }
  deps_.dispatcher.post(
      [this, call, name = request->name(), signal, group = request->process_group()] {
        if (!call->claim()) {
          return;
        }
        complete(call, deps_.backend.signalUnit(name, static_cast<int>(signal), group));
      });
  return reactor;
}

grpc::ServerUnaryReactor* AgentService::ReloadConfig(grpc::CallbackServerContext* context,
                                                     const v1::ReloadConfigRequest* /*request*/,
                                                     v1::ReloadConfigResponse* response) {
  constexpr std::string_view kMethod = "ReloadConfig";
  auto* reactor = context->DefaultReactor();
  if (grpc::Status access = deps_.access.check(*context, ApiRole::kAdmin, kMethod); !access.ok()) {
    return finishNow(reactor, kMethod, access);
  }
  auto call = pendingCall(reactor, kMethod);
  if (call == nullptr) {
    return reactor;
  }
  deps_.dispatcher.post([this, call, response] {
    if (!call->claim()) {
      return;
    }
    complete(call, deps_.backend.reloadConfig(response));
  });
  return reactor;
}

// --- Streams ---------------------------------------------------------------------------------

grpc::Status AgentService::openStream(const std::shared_ptr<StreamControl>& stream,
                                      uint64_t* slot) {
  switch (streams_.add(stream, slot)) {
    case StreamRegistry::AddResult::kAdded:
      return grpc::Status::OK;
    case StreamRegistry::AddResult::kFull:
      return grpc::Status(
          StatusCode::RESOURCE_EXHAUSTED,
          "too many streams: " + std::to_string(streams_.maxStreams()) +
              " WatchEvents and ReadOutput streams are open (api.limits.max_streams)");
    case StreamRegistry::AddResult::kClosing:
      break;
  }
  return stopping();
}

template <class Response>
typename OutboxReactor<Response>::DoneFn AgentService::streamDone(std::string_view method,
                                                                  std::optional<uint64_t> slot) {
  return [this, method, slot](const grpc::Status& status) {
    if (slot) {
      streams_.remove(*slot);
    }
    record(method, status);
  };
}

grpc::ServerWriteReactor<v1::WatchEventsResponse>* AgentService::WatchEvents(
    grpc::CallbackServerContext* context, const v1::WatchEventsRequest* request) {
  constexpr std::string_view kMethod = "WatchEvents";
  std::shared_ptr<EventOutbox> outbox = deps_.events.newOutbox();
  uint64_t slot = 0;
  grpc::Status status = deps_.access.check(*context, ApiRole::kRead, kMethod);
  if (status.ok()) {
    status = openStream(outbox, &slot);
  }
  auto* reactor = new OutboxReactor<v1::WatchEventsResponse>(
      outbox, streamDone<v1::WatchEventsResponse>(
                  kMethod, status.ok() ? std::optional<uint64_t>(slot) : std::nullopt));
  if (!status.ok()) {
    outbox->close(status, /*drain=*/false);
    return reactor;
  }
  deps_.events.subscribe(outbox, {request->units().begin(), request->units().end()});
  // Headers now: a client that waits for them knows it is subscribed.
  outbox->sendHeaders();
  return reactor;
}

grpc::ServerWriteReactor<v1::ReadOutputResponse>* AgentService::ReadOutput(
    grpc::CallbackServerContext* context, const v1::ReadOutputRequest* request) {
  constexpr std::string_view kMethod = "ReadOutput";
  auto outbox = std::make_shared<OutputOutbox>(limits_.output_queue_bytes);
  uint64_t slot = 0;
  grpc::Status status = deps_.access.check(*context, ApiRole::kRead, kMethod);
  if (status.ok()) {
    status = validateReadOutput(*request);
  }
  if (status.ok()) {
    status = openStream(outbox, &slot);
  }
  auto* reactor = new OutboxReactor<v1::ReadOutputResponse>(
      outbox, streamDone<v1::ReadOutputResponse>(
                  kMethod, status.ok() ? std::optional<uint64_t>(slot) : std::nullopt));
  if (!status.ok()) {
    outbox->close(status, /*drain=*/false);
    return reactor;
  }
  deps_.dispatcher.post([this, outbox, request = *request] {
    if (outbox->closed()) {
      return;  // cancelled, or the agent is stopping.
    }
    const grpc::Status read = deps_.backend.readOutput(request, outbox);
    if (!read.ok()) {
      outbox->close(read, /*drain=*/false);
    } else if (!request.follow()) {
      outbox->close(grpc::Status::OK, /*drain=*/true);
    } else {
      outbox->sendHeaders();  // following: a client that waits for them can now make output.
    }
  });
  return reactor;
}

}  // namespace vigie
