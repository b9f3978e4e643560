#pragma once

#include <string>

#include "agent/crash/crash_index.h"
#include "vigie/v1/agent.pb.h"
#include "vigie/v1/crash.pb.h"

namespace vigie {

// Crash records as the API shows them. Pure functions.

// One incident in a line (no backtrace, tails or environment). `revision` is left unset: it is
// the snapshot's business (CrashEntry).
void fillCrashSummary(const v1::CrashIncident& incident, v1::CrashSummary* out);

// Whether the incident's core can be downloaded: stored, and not removed by retention.
bool coreAvailable(const v1::CrashIncident& incident);
// Why there is no core to download, in words for a person ("the process had RLIMIT_CORE 0
// ..."); "" when coreAvailable().
std::string coreMissingReason(const v1::CrashIncident& incident);

// The crashing thread's top frame with a name, past the frames that only deliver the signal
// (raise, abort, pthread_kill...); "" without a backtrace.
std::string crashingFunction(const v1::Backtrace& backtrace);

void fillCrashGroup(const crash::CrashGroup& group, v1::CrashGroup* out);
void fillCorePattern(const crash::CorePatternState& state, v1::CorePatternStatus* out);

}  // namespace vigie
