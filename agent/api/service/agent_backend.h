#pragma once

#include <grpcpp/support/status.h>

#include <functional>
#include <memory>
#include <string>

#include "agent/api/service/output_hub.h"
#include "vigie/v1/agent.pb.h"

namespace vigie {

// The result of a command on a unit: the unit as it is once the command has been applied.
struct UnitReply {
  grpc::Status status;
  v1::Unit unit;  // when status is OK
};

enum class UnitCommand { kStart, kStop, kRestart };

// The supervision side of the API service: what the service asks of the loop. Every method runs
// on the loop thread (the service post()s to it) and may read and change supervision state.
// Production: LoopBackend; unit tests: a fake.
class AgentBackend {
 public:
  using UnitDone = std::function<void(UnitReply)>;

  virtual ~AgentBackend() = default;

  // Applies `command`; `done` runs on the loop thread once it has been applied: at once for
  // start and stop, once the new instance is up for a restart (it may wait for the stop).
  virtual void unitCommand(UnitCommand command, const std::string& unit, UnitDone done) = 0;
  // `signal` is a valid signal number (the service checks).
  virtual grpc::Status signalUnit(const std::string& unit, int signal, bool process_group) = 0;
  // Reads the config file again; applies it only when it is valid.
  virtual grpc::Status reloadConfig(v1::ReloadConfigResponse* response) = 0;
  // Queues the selected instance's kept output (request.tail_bytes of each stream) into
  // `outbox`; with request.follow, also subscribes it to the unit's new output in the same loop
  // task, so nothing is missed or sent twice. The caller ends a non-follow stream once this
  // returns OK. The request has been validated (streams, selector).
  virtual grpc::Status readOutput(const v1::ReadOutputRequest& request,
                                  const std::shared_ptr<OutputOutbox>& outbox) = 0;
};

}  // namespace vigie
