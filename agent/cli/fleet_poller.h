#pragma once

#include <grpcpp/completion_queue.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "agent/cli/fleet_channels.h"
#include "agent/cli/fleet_node.h"
#include "agent/cli/fleet_targets.h"
#include "vigie/time.h"
#include "vigie/v1/agent.grpc.pb.h"

namespace vigie::cli {

struct FleetPollerOptions {
  // Deadline of each call; shorter than the poll interval, so that a round is over before the
  // next one starts.
  Duration call_timeout = 1s;
  // A node is down after this many missed polls in a row.
  uint32_t down_after = 3;
  // Each node asks for its usage gauges (with_usage) on one round in this many, staggered across
  // nodes so that the fleet's usage samples spread over the rounds; 1: every round. A node's
  // first poll always asks.
  uint32_t usage_every = 5;
};

// Called with each Heartbeat answer once it has been applied to its node.
using FleetHeartbeatHook = std::function<void(
    const FleetNode& node, const v1::HeartbeatResponse& response, MonoTime received)>;

// Polls agents with Heartbeat diffs, all at once, from the calling thread: one gRPC completion
// queue, no thread per node. Every call has a deadline, so a round always ends.
//
// After a Heartbeat reveals a new agent epoch, the poller asks that agent for its description
// (GetNode) once, as the API's contract says; that call may finish during a later round.
class FleetPoller {
 public:
  FleetPoller(const std::vector<FleetTarget>& targets, const FleetChannelFactory& channels,
              FleetPollerOptions options);
  // Cancels the calls still in flight and waits for their completions.
  ~FleetPoller();
  FleetPoller(const FleetPoller&) = delete;
  FleetPoller& operator=(const FleetPoller&) = delete;

  // Sends one Heartbeat to every node, then handles completions until every one of them has an
  // answer or has hit its deadline.
  void pollRound();
  // Handles completions (GetNode answers) until `when`: how to wait between rounds.
  void waitUntil(MonoTime when);
  // Handles completions until no call is in flight (each has a deadline).
  void finishCalls();

  const std::vector<FleetNode>& nodes() const { return nodes_; }
  uint64_t rounds() const { return rounds_; }
  void setHeartbeatHook(FleetHeartbeatHook hook) { hook_ = std::move(hook); }

 private:
  class Call;
  class HeartbeatCall;
  class NodeInfoCall;
  struct Peer {
    std::unique_ptr<v1::Agent::Stub> stub;
    std::unique_ptr<HeartbeatCall> heartbeat;  // in flight
    std::unique_ptr<NodeInfoCall> info;        // in flight
  };

  void startHeartbeat(size_t index);
  void startNodeInfo(size_t index);
  // Waits for one completion until `deadline`; false when it passed first.
  bool handleNext(MonoTime deadline);
  void heartbeatDone(size_t index);
  void nodeInfoDone(size_t index);
  bool usageDue(size_t index) const;
  size_t callsInFlight() const { return heartbeats_in_flight_ + infos_in_flight_; }

  FleetPollerOptions options_;
  std::vector<FleetNode> nodes_;
  std::vector<Peer> peers_;
  grpc::CompletionQueue queue_;
  uint64_t rounds_ = 0;
  size_t heartbeats_in_flight_ = 0;
  size_t infos_in_flight_ = 0;
  FleetHeartbeatHook hook_;
};

// "unix:/run/vigie/vigie.sock: connection refused (UNAVAILABLE)": why a poll got no answer.
std::string describeFailedPoll(const FleetTarget& target, const grpc::Status& status,
                               Duration timeout);

}  // namespace vigie::cli
