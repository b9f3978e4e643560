#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/api/event_sink.h"
#include "agent/api/service/agent_backend.h"
#include "agent/api/service/output_hub.h"
#include "agent/api/snapshot_publisher.h"
#include "agent/api/snapshot_updater.h"
#include "agent/supervisor/supervisor.h"
#include "vigie/config.h"
#include "vigie/dispatcher.h"

namespace vigie {

// The API's commands applied to the real supervisor, on the loop thread; and the sink of the
// API's events, which it passes on to the WatchEvents hub and uses itself: instance ends mark the
// end of an instance's output for ReadOutput followers, and a stop finishes a restart.
//
// Replies carry the unit from a snapshot published right after the command, so a Heartbeat that
// follows the reply sees the change.
class LoopBackend final : public AgentBackend, public ApiEventSink {
 public:
  // After a valid config has been applied (the storage budget, the STATUS= summary...).
  using OnReloaded = std::function<void(const AgentConfig& config)>;

  struct Deps {
    Dispatcher& dispatcher;
    Supervisor& supervisor;
    SnapshotUpdater& updater;
    const SnapshotPublisher& publisher;
    OutputHub& output;
    ApiEventSink* events = nullptr;  // the WatchEvents hub
  };

  LoopBackend(Deps deps, std::string config_path, OnReloaded on_reloaded);
  ~LoopBackend() override;
  LoopBackend(const LoopBackend&) = delete;
  LoopBackend& operator=(const LoopBackend&) = delete;

  // The agent is stopping: commands are refused from now on, and restarts waiting for their
  // stop are answered UNAVAILABLE.
  void beginShutdown();

  void unitCommand(UnitCommand command, const std::string& unit, UnitDone done) override;
  grpc::Status signalUnit(const std::string& unit, int signal, bool process_group) override;
  grpc::Status reloadConfig(v1::ReloadConfigResponse* response) override;
  grpc::Status readOutput(const v1::ReadOutputRequest& request,
                          const std::shared_ptr<OutputOutbox>& outbox) override;

  void publishEvents(const std::vector<v1::Event>& events) override;

  size_t pendingRestarts() const { return restarts_.size(); }

 private:
  struct PendingRestart {
    std::string unit;
    UnitDone done;
  };

  UnitReply replyFor(const std::string& unit);
  grpc::Status unknownUnit(const std::string& unit) const;
  void restart(Unit& unit, UnitDone done);
  void finishRestarts(const std::string& unit);
  void abortRestarts(const std::string& unit, const grpc::Status& status);

  Deps deps_;
  const std::string config_path_;
  OnReloaded on_reloaded_;
  std::vector<PendingRestart> restarts_;  // stopping, to be started once stopped.
  bool shutting_down_ = false;
};

}  // namespace vigie
