#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "agent/cli/fleet_node_state.h"
#include "agent/cli/fleet_targets.h"
#include "vigie/result.h"
#include "vigie/time.h"
#include "vigie/v1/agent.pb.h"

namespace vigie::cli {

// kPending: not answered yet, and fewer than down_after polls missed.
// kUp: answered its latest poll, or missed fewer than down_after in a row since it last did.
// kDown: missed down_after polls in a row.
enum class FleetNodeStatus { kPending, kUp, kDown };

const char* fleetNodeStatusName(FleetNodeStatus status);

// One agent as the poller sees it: its units (FleetNodeState), whether it answers, when it last
// did, and what it last said about itself. Pure: the poller passes every time in.
class FleetNode {
 public:
  FleetNode(FleetTarget target, uint32_t down_after);

  // The agent answered a Heartbeat at `now`. The node is up even when the answer is refused
  // (FleetNodeState::apply): it answered, and the next poll asks for the full state.
  Result<HeartbeatApplied> answered(const v1::HeartbeatResponse& response, MonoTime now);
  // A poll got no answer; `error` says why ("unix:/run/vigie.sock: connection refused").
  void missed(std::string error);
  // The agent's GetNode answer, for the epoch known now.
  void described(const v1::NodeInfo& info);

  const FleetTarget& target() const { return target_; }
  FleetNodeStatus status() const { return status_; }
  uint32_t missedPolls() const { return missed_; }  // in a row
  std::optional<MonoTime> lastAnswer() const { return last_answer_; }
  // Why the latest poll failed or its answer was refused; "" after a good one.
  const std::string& lastError() const { return last_error_; }
  // Restarts counted by the latest answer (since the answer before it). Unset when the latest
  // poll got no answer, and after the first answer, which has nothing to count from.
  std::optional<uint64_t> restartsLastPoll() const { return restarts_; }
  const FleetNodeState& state() const { return state_; }
  const std::optional<v1::NodeUsage>& usage() const { return usage_; }
  const std::optional<v1::NodeInfo>& info() const { return info_; }
  // The agent is known at an epoch whose description (GetNode) has not been received.
  bool needsInfo() const;
  size_t failingUnits() const;

 private:
  FleetTarget target_;
  uint32_t down_after_;
  FleetNodeState state_;
  FleetNodeStatus status_ = FleetNodeStatus::kPending;
  uint32_t missed_ = 0;
  bool answered_before_ = false;
  std::optional<MonoTime> last_answer_;
  std::string last_error_;
  std::optional<uint64_t> restarts_;
  std::optional<v1::NodeUsage> usage_;
  std::optional<v1::NodeInfo> info_;
  uint64_t info_epoch_ = 0;
};

}  // namespace vigie::cli
