#include "agent/cli/fleet_node.h"

#include <algorithm>
#include <utility>

namespace vigie::cli {

const char* fleetNodeStatusName(FleetNodeStatus status) {
  switch (status) {
    case FleetNodeStatus::kPending:
      return "pending";
    case FleetNodeStatus::kUp:
      return "up";
    case FleetNodeStatus::kDown:
      return "down";
  }
  return "unknown";
}

FleetNode::FleetNode(FleetTarget target, uint32_t down_after)
    : target_(std::move(target)), down_after_(std::max<uint32_t>(down_after, 1)) {}

Result<HeartbeatApplied> FleetNode::answered(const v1::HeartbeatResponse& response, MonoTime now) {
  status_ = FleetNodeStatus::kUp;
  missed_ = 0;
  last_answer_ = now;
  if (response.has_usage()) {
    usage_ = response.usage();
  }
  Result<HeartbeatApplied> applied = state_.apply(response);
  if (!applied) {
    last_error_ = applied.error().message;
    restarts_.reset();
    return applied;
  }
  last_error_.clear();
  if (answered_before_) {
    restarts_ = applied->restarts;
  } else {
    restarts_.reset();
  }
  answered_before_ = true;
  return applied;
}

void FleetNode::missed(std::string error) {
  ++missed_;
  last_error_ = std::move(error);
  restarts_.reset();
  if (missed_ >= down_after_) {
    status_ = FleetNodeStatus::kDown;
  }
}

void FleetNode::described(const v1::NodeInfo& info) {
  info_ = info;
  info_epoch_ = state_.epoch();
}

bool FleetNode::needsInfo() const {
  return state_.known() && (!info_ || info_epoch_ != state_.epoch());
}

size_t FleetNode::failingUnits() const {
  const auto& units = state_.units();
  return static_cast<size_t>(std::count_if(units.begin(), units.end(), unitFailing));
}

}  // namespace vigie::cli
