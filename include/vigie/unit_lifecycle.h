#pragma once

#include <string_view>

namespace vigie {

// A unit's life cycle, as one explicit state x event table (see unit_lifecycle.cc).
enum class UnitState {
  kStopped,     // not running, and not meant to be (initial, or stopped by an operator).
  kStarting,    // being spawned.
  kRunning,     // its process is alive.
  kStopping,    // stop signal sent, waiting for the exit (SIGKILL at stop.timeout).
  kBackingOff,  // ended, waiting out the backoff delay before the next start.
  kFailed,      // hit the start limit; retried every max(backoff.max, limit.interval).
  kExited,      // ended and the policy says not to restart.
};

enum class UnitEvent {
  kStart,              // operator or agent start.
  kStop,               // operator or agent stop.
  kSpawned,            // the process started.
  kEndedDone,          // the instance ended (or failed to spawn); policy: do not restart.
  kEndedRestartNow,    // ... policy: restart at once.
  kEndedRestartLater,  // ... policy: restart after a backoff delay.
  kEndedFail,          // ... policy: start limit hit.
  kTimerFired,         // backoff, slow retry or stop timeout.
};

// What the unit does as part of a transition.
enum class UnitAction {
  kNone,
  kSpawn,            // start a new instance now.
  kSendStopSignal,   // stop.signal to the group, arm the stop timer.
  kKill,             // SIGKILL to the group.
  kArmRestartTimer,  // arm the timer to the backoff delay.
  kArmRetryTimer,    // arm the timer to the slow retry period.
  kCancelTimer,
  kIgnore,  // the event means nothing in this state (logged at debug level).
};

struct UnitTransition {
  UnitState next;
  UnitAction action;
};

UnitTransition unitTransition(UnitState state, UnitEvent event);

std::string_view unitStateName(UnitState state);  // "running", "backing-off", ...
std::string_view unitEventName(UnitEvent event);

}  // namespace vigie
