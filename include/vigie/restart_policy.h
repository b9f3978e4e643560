#pragma once

#include <cstdint>
#include <deque>
#include <optional>

#include "vigie/config.h"
#include "vigie/health.h"
#include "vigie/process.h"
#include "vigie/time.h"

namespace vigie {

// Fraction of a backoff delay that jitter may take off. Jitter only shortens a delay, so a
// jittered delay never exceeds its base nor backoff.max.
inline constexpr double kBackoffJitterFraction = 0.1;

// Failed spawns after the first are retried no sooner than this, whatever the backoff says.
inline constexpr Duration kSpawnFailureRetryFloor = 1s;

// The delay before restart number `restart` (1-based) of a run of failures. The first restart is
// immediate; the n-th (n >= 2) waits initial * 2^(n-2), capped at max, minus up to 10% jitter.
// `jitter` is a uniform draw in [0, 1) supplied by the caller, which keeps this function pure.
Duration backoffDelay(const BackoffSpec& backoff, uint32_t restart, double jitter);

// How an instance ended, as the restart policy sees it.
enum class ExitKind {
  kSuccess,      // exited with a code in success_exit_codes.
  kFailure,      // exited with another code.
  kSignal,       // killed by a signal (including a core dump).
  kSpawnFailed,  // never ran: exec failed, binary missing, bad cwd.
  kLiveness,     // ended by the agent: its liveness probe failed (a failure, whatever its status).
  kWatchdog,     // ended by the agent: no WATCHDOG=1 in time (a failure too).
};

ExitKind classifyExit(const WorkloadSpec& spec, const ExitStatus& status);
// classifyExit, unless the agent ended the instance for a failed health check: then that reason.
ExitKind classifyEnd(const WorkloadSpec& spec, const ExitStatus& status, EndReason reason);

// What the policy decides after an instance ends on its own (not stopped by an operator).
struct RestartDecision {
  enum class Action { kDone, kRestartNow, kRestartLater, kFail };
  Action action = Action::kDone;
  Duration delay{};  // for kRestartLater and kFail (the slow retry period).
};

// The counters the restart policy keeps for one unit. Owned by the unit, advanced only through
// RestartTracker so that the whole policy stays a pure, testable function of time.
class RestartTracker {
 public:
  explicit RestartTracker(const RestartSpec& spec) : spec_(spec) {}

  // Called when an instance ends on its own. `uptime` is how long it ran (0 for a failed spawn).
  RestartDecision onExit(ExitKind kind, Duration uptime, MonoTime now, double jitter);
  // Called when an operator starts or restarts the unit: the history is forgotten.
  void reset();
  void setSpec(const RestartSpec& spec) { spec_ = spec; }

  uint32_t restartCount() const { return restart_count_; }
  bool failed() const { return failed_; }

 private:
  bool shouldRestart(ExitKind kind) const;
  bool startLimitHit(MonoTime now);

  RestartSpec spec_;
  uint32_t restart_count_ = 0;   // restarts in the current run of failures.
  std::deque<MonoTime> recent_;  // restart times inside limit.interval, at most burst of them.
  bool failed_ = false;          // in the slow-retry regime until an instance runs reset_after.
};

}  // namespace vigie
