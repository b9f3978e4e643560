#pragma once

#include <string>

#include "agent/cli/terminal.h"
#include "vigie/time.h"
#include "vigie/v1/agent.pb.h"

namespace vigie::cli {

// How units, instances and exits read in vigiectl's human output.

// "running", "backing-off", ... (the names the agent's config and logs use).
std::string stateName(v1::UnitState state);
// Green when running, yellow on the way somewhere, red when failed.
Style stateStyle(v1::UnitState state);
std::string restartPolicyName(v1::RestartPolicy policy);

// Why an instance ended: the agent's own description when it sent one ("signal SIGSEGV (core
// dumped)"), else one built from the details.
std::string exitReason(const v1::ExitDetails& exit);

// The newest instance that has ended, or nullptr.
const v1::Instance* lastEndedInstance(const v1::Unit& unit);
// The instance running now (the newest, when it has not ended and the unit has a process).
const v1::Instance* currentInstance(const v1::Unit& unit);

// "signal SIGSEGV (core dumped) 3m ago", or "-" when no instance has ended.
std::string lastExitSummary(const v1::Unit& unit, WallTime now);
// "in 4.2s" while a start is scheduled, else "-".
std::string nextStartSummary(const v1::Unit& unit, WallTime now);

// "liveness", "watchdog", "oom-killed"; "" for EXIT_REASON_UNSPECIFIED.
std::string exitReasonName(v1::ExitReason reason);
// What the current instance's health adds to its state: "not ready" (started, no READY=1 yet),
// "liveness failing 2/3"; "" when there is nothing to add.
std::string healthSummary(const v1::Unit& unit);
// The state as `status` shows it: "running", "running (liveness failing 1/3)".
std::string stateWithHealth(const v1::Unit& unit);
// "http GET 127.0.0.1:8080/healthz every 10s, timeout 1s, 3 failures"
std::string livenessProbeSummary(const v1::LivenessProbe& probe);

}  // namespace vigie::cli
