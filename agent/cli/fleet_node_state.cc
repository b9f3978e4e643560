#include "agent/cli/fleet_node_state.h"

#include <algorithm>
#include <unordered_set>

namespace vigie::cli {
namespace {

// The growth of a unit's restart counter. A counter that went down (it never should within an
// epoch) counts as no restart rather than as a huge number.
uint64_t restartsBetween(const v1::Unit* before, const v1::Unit& after) {
  const uint64_t known = before != nullptr ? before->total_restarts() : 0;
  return after.total_restarts() > known ? after.total_restarts() - known : 0;
}

}  // namespace

Result<HeartbeatApplied> FleetNodeState::apply(const v1::HeartbeatResponse& response) {
  HeartbeatApplied applied;
  applied.full_state = response.full_state();
  applied.reason = response.full_state_reason();
  applied.new_epoch = !known_ || response.version().epoch() != epoch_;
  if (response.full_state()) {
    replaceAll(response, applied);
    return applied;
  }
  if (!known_ || resync_) {
    resync_ = true;
    return Error{"a diff arrived where the full state was asked for; asking again"};
  }
  if (applied.new_epoch) {
    resync_ = true;
    return Error{
        "a diff from another agent epoch (the agent restarted?); asking for the full "
        "state"};
  }
  if (response.version().revision() < revision_) {
    resync_ = true;
    return Error{"a diff at revision " + std::to_string(response.version().revision()) +
                 ", behind the known revision " + std::to_string(revision_) +
                 "; asking for the full state"};
  }
  applyDiff(response, applied);
  return applied;
}

std::optional<v1::StateVersion> FleetNodeState::since() const {
  if (!known_ || resync_) {
    return std::nullopt;
  }
  v1::StateVersion version;
  version.set_epoch(epoch_);
  version.set_revision(revision_);
  return version;
}

const v1::Unit* FleetNodeState::find(std::string_view name) const {
  const auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &units_[it->second];
}

void FleetNodeState::replaceAll(const v1::HeartbeatResponse& response, HeartbeatApplied& applied) {
  // Restarts are counted against what was known only within one epoch; across a new epoch every
  // restart the agent reports happened after our previous answer, since the agent restarted
  // after it. The first answer ever has no "before".
  const bool first = !known_;
  const bool same_epoch = known_ && !applied.new_epoch;
  std::vector<v1::Unit> next(response.units().begin(), response.units().end());
  for (const v1::Unit& unit : next) {
    if (first) {
      continue;
    }
    applied.restarts += restartsBetween(same_epoch ? find(unit.name()) : nullptr, unit);
  }
  applied.units_changed = next.size();
  std::unordered_set<std::string_view> incoming;
  for (const v1::Unit& unit : next) {
    incoming.insert(unit.name());
  }
  for (const v1::Unit& old : units_) {
    applied.units_removed += incoming.contains(old.name()) ? 0 : 1;
  }
  units_ = std::move(next);
  reindex();
  known_ = true;
  resync_ = false;
  epoch_ = response.version().epoch();
  revision_ = response.version().revision();
}

void FleetNodeState::applyDiff(const v1::HeartbeatResponse& response, HeartbeatApplied& applied) {
  if (response.removed_units_size() > 0) {
    // Tombstones of units never seen (added and removed between two polls) drop nothing.
    std::unordered_set<std::string_view> removed;
    for (const v1::Tombstone& tombstone : response.removed_units()) {
      removed.insert(tombstone.name());
    }
    const auto kept = std::remove_if(units_.begin(), units_.end(), [&](const v1::Unit& unit) {
      return removed.contains(unit.name());
    });
    applied.units_removed = static_cast<size_t>(units_.end() - kept);
    units_.erase(kept, units_.end());
    reindex();
  }
  for (const v1::Unit& unit : response.units()) {
    upsert(unit, applied);
  }
  revision_ = response.version().revision();
}

void FleetNodeState::upsert(const v1::Unit& unit, HeartbeatApplied& applied) {
  ++applied.units_changed;
  const auto it = index_.find(unit.name());
  if (it == index_.end()) {
    applied.restarts += restartsBetween(nullptr, unit);
    index_.emplace(unit.name(), units_.size());
    units_.push_back(unit);
    return;
  }
  applied.restarts += restartsBetween(&units_[it->second], unit);
  units_[it->second] = unit;
}

void FleetNodeState::reindex() {
  index_.clear();
  index_.reserve(units_.size());
  for (size_t i = 0; i < units_.size(); ++i) {
    index_.emplace(units_[i].name(), i);
  }
}

bool unitFailing(const v1::Unit& unit) {
  switch (unit.state()) {
    case v1::UNIT_STATE_BACKING_OFF:
    case v1::UNIT_STATE_FAILED:
      return true;
    case v1::UNIT_STATE_STARTING:
    case v1::UNIT_STATE_RUNNING:
      // Between two crashes of a crash loop: restarted, and not yet up long enough for the
      // agent to reset its count.
      return unit.restart_count() > 0;
    case v1::UNIT_STATE_EXITED: {
      const auto& instances = unit.instances();
      return !instances.empty() && instances.rbegin()->has_exit() &&
             !instances.rbegin()->exit().success();
    }
    default:
      return false;
  }
}

}  // namespace vigie::cli
