#pragma once

#include <string>

#include "agent/cli/terminal.h"
#include "vigie/result.h"
#include "vigie/time.h"
#include "vigie/v1/agent.pb.h"

namespace vigie::cli {

// How crash incidents read in vigiectl's human output. Pure functions.

// "pending", "complete", "no-core", "capture-failed", "timed-out" (as the agent logs them).
std::string crashStatusName(v1::IncidentStatus status);
Style crashStatusStyle(v1::IncidentStatus status);
// The first 8 hex digits, enough to tell groups apart at a glance ("-" when none).
std::string shortFingerprint(const std::string& fingerprint);
// "web", "web (child)" for a process below the instance, "(node)" for a node-level crash.
std::string crashUnitText(const v1::CrashSummary& crash);
// "SIGSEGV", "exit 3", or "-".
std::string crashSignalText(const v1::CrashSummary& crash);
// The core in a word: its stored size, or why there is none ("rate-limited", "removed"...).
std::string crashCoreText(const v1::CrashSummary& crash);
std::string coreStateName(v1::CoreState state);

// A crash event for `vigiectl events`: "crash 2024...-9f3a01c2 opened: SIGSEGV (core-dumped),
// capturing the core"; "crash ... complete: SIGSEGV in level3, core 1.5 MiB (vigiectl crash show
// ID)".
std::string crashEventWords(const v1::CrashSummary& crash, bool completed);

// `--since`: a length of time back from `now` ("30m", "2h", "3d") or a local time
// ("2024-05-01", "2024-05-01 12:00", "2024-05-01T12:00:00"; a trailing "Z" means UTC).
Result<WallTime> parseSince(const std::string& text, WallTime now);

}  // namespace vigie::cli
