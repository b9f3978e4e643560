#pragma once

#include "agent/api/node_snapshot.h"
#include "agent/api/usage.h"
#include "vigie/v1/agent.pb.h"

namespace vigie {

// Why the request cannot be answered with a diff, or FULL_STATE_REASON_UNSPECIFIED when it can.
v1::FullStateReason fullStateReason(const NodeSnapshot& snapshot,
                                    const v1::HeartbeatRequest& request);

// The answer to a Heartbeat poll, from a snapshot alone (no loop state, no lock):
// - the full state (every unit, no tombstones) when the request has no `since`, names another
//   epoch, or a revision newer than the snapshot's or older than the tombstones kept;
// - otherwise the units whose revision is newer than `since.revision` and the tombstones of the
//   units removed after it; crash incidents likewise. When nothing changed, only the version: a
//   few bytes.
// Usage is sampled from `usage` only when the request asks for it and `usage` is not null.
v1::HeartbeatResponse buildHeartbeat(const NodeSnapshot& snapshot,
                                     const v1::HeartbeatRequest& request, UsageSource* usage);

}  // namespace vigie
