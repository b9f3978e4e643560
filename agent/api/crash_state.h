#pragma once

#include <cstdint>
#include <vector>

#include "agent/api/node_snapshot.h"
#include "agent/crash/crash_index.h"
#include "vigie/time.h"
#include "vigie/v1/agent.pb.h"

namespace vigie {

// The crash part of the next snapshot, from the previous one and the tracker's latest index.
// State-based like the units: an incident's revision moves to `revision` only when its summary
// changed; an incident that is gone (retention) leaves a tombstone at `revision`. An incident
// whose latest version is still being written (CrashIndex::writing) keeps the version the API
// showed before, or stays hidden when it is new: the API names only records whose files are on
// disk. Returns whether anything a heartbeat reports changed.
bool nextCrashState(const CrashState& previous, const crash::CrashIndex& index, uint64_t revision,
                    MonoTime now, CrashState& next);

// The crash events between two published states, for WatchEvents: CrashOpened for each incident
// that appeared, CrashCompleted for each that left PENDING (or appeared settled). The incidents
// that appear when the store is first read are records, not news: not announced.
std::vector<v1::Event> crashEvents(const CrashState& before, const CrashState& after, WallTime now);

// The summary of `entry` as the API sends it, with its revision.
void fillCrashSummary(const CrashEntry& entry, v1::CrashSummary* out);

}  // namespace vigie
