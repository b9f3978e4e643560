#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "vigie/result.h"
#include "vigie/v1/agent.pb.h"

namespace vigie::cli {

// What one Heartbeat answer changed in a FleetNodeState.
struct HeartbeatApplied {
  bool full_state = false;
  v1::FullStateReason reason = v1::FULL_STATE_REASON_UNSPECIFIED;
  // The answer came from another agent epoch than the one known (or was the first one).
  bool new_epoch = false;
  size_t units_changed = 0;  // added or replaced
  size_t units_removed = 0;
  // Restarts that happened since the previous answer, from the units' total_restarts: the
  // growth of each unit's counter, all of a unit's restarts when it is new within the epoch, and
  // every restart of the new epoch when the agent itself restarted. 0 for the very first answer,
  // which has no previous one to count from.
  uint64_t restarts = 0;
};

// A poller's copy of one agent's units, kept by applying Heartbeat answers exactly as
// proto/vigie/v1/agent.proto says:
// - a full state replaces everything known (a new epoch, an expired history, a `since` ahead);
// - a diff first drops the units named in removed_units, then adds or replaces `units`;
// - the answer's version becomes the `since` of the next poll.
// A diff that cannot be applied (nothing known yet, another epoch, a revision behind the one
// known) changes nothing and is refused; the next poll then asks for the full state.
// Pure: no I/O, no clock.
class FleetNodeState {
 public:
  Result<HeartbeatApplied> apply(const v1::HeartbeatResponse& response);

  // What the next HeartbeatRequest.since should be: unset before the first full state and after
  // a refused diff (then the agent answers with the full state).
  std::optional<v1::StateVersion> since() const;

  bool known() const { return known_; }
  uint64_t epoch() const { return epoch_; }
  uint64_t revision() const { return revision_; }
  // In the agent's order: the order of the last full state, units added since at the end.
  const std::vector<v1::Unit>& units() const { return units_; }
  const v1::Unit* find(std::string_view name) const;

 private:
  void replaceAll(const v1::HeartbeatResponse& response, HeartbeatApplied& applied);
  void applyDiff(const v1::HeartbeatResponse& response, HeartbeatApplied& applied);
  void upsert(const v1::Unit& unit, HeartbeatApplied& applied);
  void reindex();

  bool known_ = false;
  bool resync_ = false;  // a diff was refused: ask for the full state next
  uint64_t epoch_ = 0;
  uint64_t revision_ = 0;
  std::vector<v1::Unit> units_;
  std::unordered_map<std::string, size_t> index_;  // name -> position in units_
};

// A unit that needs someone's attention: crash looping (backing off, or running again but not
// yet for long enough to reset its restart count), failed (start limit), or exited for good
// with an end that its config does not count as a success.
bool unitFailing(const v1::Unit& unit);

}  // namespace vigie::cli
