#pragma once

#include <grpcpp/support/server_callback.h>

#include <memory>
#include <optional>
#include <string_view>

#include "agent/api/access.h"
#include "agent/api/service/agent_backend.h"
#include "agent/api/service/event_hub.h"
#include "agent/api/service/pending_calls.h"
#include "agent/api/service/stream_reactor.h"
#include "agent/api/service/stream_registry.h"
#include "agent/api/snapshot_publisher.h"
#include "agent/api/usage.h"
#include "vigie/config.h"
#include "vigie/dispatcher.h"
#include "vigie/v1/agent.grpc.pb.h"

namespace vigie {

// The vigie.v1.Agent service, on gRPC's callback API: no thread waits for a call.
//
// Every RPC first asks the AccessPolicy (reads, Heartbeat and streams need the read role;
// commands need admin), and every finished call is counted by the ApiCallRecorder.
// - Reads (GetNode, ListUnits, GetUnit, Heartbeat) are answered on the gRPC thread from the
//   latest published snapshot: they never touch or wait for the loop.
// - Commands (Start/Stop/Restart/SignalUnit, ReloadConfig) are post()ed to the loop, which
//   applies them through the AgentBackend and finishes the call from the loop thread.
// - Streams (WatchEvents, ReadOutput) write from bounded per-stream outboxes; DownloadCore reads
//   its next chunk when the previous one is written. At most limits.max_streams are open at once.
// - Crash reads (ListCrashes, GetCrash) come from the snapshot too; GetCrash and DownloadCore
//   read the incident's files in the crash store (crash_rpcs.cc).
class AgentService final : public v1::Agent::CallbackService {
 public:
  struct Deps {
    const SnapshotPublisher& publisher;
    Dispatcher& dispatcher;  // the loop: commands and output reads are posted to it
    AgentBackend& backend;   // called on the loop thread only
    EventHub& events;
    const AccessPolicy& access;
    ApiCallRecorder* recorder = nullptr;  // null: calls are not counted
    UsageSource* usage = nullptr;         // null: no usage in GetNode and Heartbeat
  };

  // `node`: what GetNode describes (readNodeInfo).
  AgentService(Deps deps, v1::NodeInfo node, ApiLimitsSpec limits);
  AgentService(const AgentService&) = delete;
  AgentService& operator=(const AgentService&) = delete;

  // Ends every open stream (after what it has queued) and answers every command still waiting
  // for the loop, with UNAVAILABLE; from then on, commands and streams are refused at once (reads
  // still work). Call it once the loop has stopped and before the server shuts down, so that the
  // shutdown finds no call to wait for but consumers that do not read. Any thread.
  void shutdown();

  size_t openStreams() const { return streams_.open(); }

  grpc::ServerUnaryReactor* GetNode(grpc::CallbackServerContext* context,
                                    const v1::GetNodeRequest* request,
                                    v1::GetNodeResponse* response) override;
  grpc::ServerUnaryReactor* ListUnits(grpc::CallbackServerContext* context,
                                      const v1::ListUnitsRequest* request,
                                      v1::ListUnitsResponse* response) override;
  grpc::ServerUnaryReactor* GetUnit(grpc::CallbackServerContext* context,
                                    const v1::GetUnitRequest* request,
                                    v1::GetUnitResponse* response) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* context,
                                      const v1::HeartbeatRequest* request,
                                      v1::HeartbeatResponse* response) override;
  grpc::ServerUnaryReactor* StartUnit(grpc::CallbackServerContext* context,
                                      const v1::StartUnitRequest* request,
                                      v1::StartUnitResponse* response) override;
  grpc::ServerUnaryReactor* StopUnit(grpc::CallbackServerContext* context,
                                     const v1::StopUnitRequest* request,
                                     v1::StopUnitResponse* response) override;
  grpc::ServerUnaryReactor* RestartUnit(grpc::CallbackServerContext* context,
                                        const v1::RestartUnitRequest* request,
                                        v1::RestartUnitResponse* response) override;
  grpc::ServerUnaryReactor* SignalUnit(grpc::CallbackServerContext* context,
                                       const v1::SignalUnitRequest* request,
                                       v1::SignalUnitResponse* response) override;
  grpc::ServerUnaryReactor* ReloadConfig(grpc::CallbackServerContext* context,
                                         const v1::ReloadConfigRequest* request,
                                         v1::ReloadConfigResponse* response) override;
  grpc::ServerWriteReactor<v1::ReadOutputResponse>* ReadOutput(
      grpc::CallbackServerContext* context, const v1::ReadOutputRequest* request) override;
  grpc::ServerWriteReactor<v1::WatchEventsResponse>* WatchEvents(
      grpc::CallbackServerContext* context, const v1::WatchEventsRequest* request) override;
  grpc::ServerUnaryReactor* ListCrashes(grpc::CallbackServerContext* context,
                                        const v1::ListCrashesRequest* request,
                                        v1::ListCrashesResponse* response) override;
  grpc::ServerUnaryReactor* GetCrash(grpc::CallbackServerContext* context,
                                     const v1::GetCrashRequest* request,
                                     v1::GetCrashResponse* response) override;
  grpc::ServerWriteReactor<v1::DownloadCoreResponse>* DownloadCore(
      grpc::CallbackServerContext* context, const v1::DownloadCoreRequest* request) override;

 private:
  grpc::ServerUnaryReactor* finishNow(grpc::ServerUnaryReactor* reactor, std::string_view method,
                                      const grpc::Status& status);
  grpc::ServerUnaryReactor* unitCommand(grpc::CallbackServerContext* context,
                                        std::string_view method, UnitCommand command,
                                        const std::string& name, v1::Unit* out);
  // Registers a command that will be answered from the loop; null when the service is closing
  // (the call has then been answered).
  std::shared_ptr<PendingCall> pendingCall(grpc::ServerUnaryReactor* reactor,
                                           std::string_view method);
  void complete(const std::shared_ptr<PendingCall>& call, const grpc::Status& status);
  void record(std::string_view method, const grpc::Status& status);
  // Takes a stream slot for `stream`, or says why it cannot have one.
  grpc::Status openStream(const std::shared_ptr<StreamControl>& stream, uint64_t* slot);
  template <class Response>
  typename OutboxReactor<Response>::DoneFn streamDone(std::string_view method,
                                                      std::optional<uint64_t> slot);

  Deps deps_;
  const v1::NodeInfo node_;
  const ApiLimitsSpec limits_;
  PendingCalls pending_;
  StreamRegistry streams_;
};

}  // namespace vigie
