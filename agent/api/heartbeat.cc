#include "agent/api/heartbeat.h"

#include "agent/api/crash_state.h"
#include "agent/api/proto_convert.h"

namespace vigie {

v1::FullStateReason fullStateReason(const NodeSnapshot& snapshot,
                                    const v1::HeartbeatRequest& request) {
  if (!request.has_since() || request.since().epoch() != snapshot.epoch) {
    return v1::FULL_STATE_REASON_NEW_EPOCH;
  }
  const uint64_t since = request.since().revision();
  if (since > snapshot.revision) {
    return v1::FULL_STATE_REASON_AHEAD;
  }
  if (since < snapshot.oldest_diffable) {
    return v1::FULL_STATE_REASON_HISTORY_EXPIRED;
  }
  return v1::FULL_STATE_REASON_UNSPECIFIED;
}

v1::HeartbeatResponse buildHeartbeat(const NodeSnapshot& snapshot,
                                     const v1::HeartbeatRequest& request, UsageSource* usage) {
  v1::HeartbeatResponse response;
  response.mutable_version()->set_epoch(snapshot.epoch);
  response.mutable_version()->set_revision(snapshot.revision);

  const v1::FullStateReason reason = fullStateReason(snapshot, request);
  const bool full = reason != v1::FULL_STATE_REASON_UNSPECIFIED;
  response.set_full_state(full);
  response.set_full_state_reason(reason);
  const uint64_t since = full ? 0 : request.since().revision();
  for (const UnitEntry& unit : snapshot.units) {
    if (full || unit.revision > since) {
      fillUnit(unit, snapshot.clock, kSummaryInstances, response.add_units());
    }
  }
  for (const CrashEntry& crash : snapshot.crashes.entries) {
    if (full || crash.revision > since) {
      fillCrashSummary(crash, response.add_crashes());
    }
  }
  if (!full) {
    for (const Tombstone& tombstone : snapshot.tombstones) {
      if (tombstone.revision > since) {
        v1::Tombstone* out = response.add_removed_units();
        out->set_name(tombstone.name);
        out->set_revision(tombstone.revision);
      }
    }
    for (const Tombstone& tombstone : snapshot.crashes.tombstones) {
      if (tombstone.revision > since) {
        v1::Tombstone* out = response.add_removed_crashes();
        out->set_name(tombstone.name);
        out->set_revision(tombstone.revision);
      }
    }
  }
  if (request.with_usage() && usage != nullptr) {
    fillUsage(usage->sample(), response.mutable_usage());
  }
  return response;
}

}  // namespace vigie
