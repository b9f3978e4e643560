#include "vigie/unit_lifecycle.h"

#include <array>
#include <cstddef>

namespace vigie {
namespace {

using S = UnitState;
using A = UnitAction;

constexpr size_t kStates = 7;
constexpr size_t kEvents = 8;

struct Row {
  UnitTransition on[kEvents];
};

constexpr UnitTransition ignore(S s) {
  return {s, A::kIgnore};
}

// Rows: current state. Columns, in UnitEvent order:
//   kStart | kStop | kSpawned | kEndedDone | kEndedRestartNow | kEndedRestartLater | kEndedFail |
//   kTimerFired
// The kEnded* events are the restart policy's verdict on an instance that ended on its own (or
// never spawned). While stopping, any end means stopped: an operator's stop wins over the policy.
constexpr std::array<Row, kStates> kTable{{
    // kStopped
    {{{S::kStarting, A::kSpawn},
      ignore(S::kStopped),
      ignore(S::kStopped),
      ignore(S::kStopped),
      ignore(S::kStopped),
      ignore(S::kStopped),
      ignore(S::kStopped),
      ignore(S::kStopped)}},
    // kStarting
    {{ignore(S::kStarting),
      {S::kStopping, A::kSendStopSignal},
      {S::kRunning, A::kNone},
      {S::kExited, A::kNone},
      {S::kStarting, A::kSpawn},
      {S::kBackingOff, A::kArmRestartTimer},
      {S::kFailed, A::kArmRetryTimer},
      ignore(S::kStarting)}},
    // kRunning
    {{ignore(S::kRunning),
      {S::kStopping, A::kSendStopSignal},
      ignore(S::kRunning),
      {S::kExited, A::kNone},
      {S::kStarting, A::kSpawn},
      {S::kBackingOff, A::kArmRestartTimer},
      {S::kFailed, A::kArmRetryTimer},
      ignore(S::kRunning)}},
    // kStopping
    {{ignore(S::kStopping),
      ignore(S::kStopping),
      ignore(S::kStopping),
      {S::kStopped, A::kCancelTimer},
      {S::kStopped, A::kCancelTimer},
      {S::kStopped, A::kCancelTimer},
      {S::kStopped, A::kCancelTimer},
      {S::kStopping, A::kKill}}},
    // kBackingOff
    {{{S::kStarting, A::kSpawn},
      {S::kStopped, A::kCancelTimer},
      ignore(S::kBackingOff),
      ignore(S::kBackingOff),
      ignore(S::kBackingOff),
      ignore(S::kBackingOff),
      ignore(S::kBackingOff),
      {S::kStarting, A::kSpawn}}},
    // kFailed
    {{{S::kStarting, A::kSpawn},
      {S::kStopped, A::kCancelTimer},
      ignore(S::kFailed),
      ignore(S::kFailed),
      ignore(S::kFailed),
      ignore(S::kFailed),
      ignore(S::kFailed),
      {S::kStarting, A::kSpawn}}},
    // kExited
    {{{S::kStarting, A::kSpawn},
      {S::kStopped, A::kNone},
      ignore(S::kExited),
      ignore(S::kExited),
      ignore(S::kExited),
      ignore(S::kExited),
      ignore(S::kExited),
      ignore(S::kExited)}},
}};

}  // namespace

UnitTransition unitTransition(UnitState state, UnitEvent event) {
  return kTable[static_cast<size_t>(state)].on[static_cast<size_t>(event)];
}

std::string_view unitStateName(UnitState state) {
  switch (state) {
    case S::kStopped:
      return "stopped";
    case S::kStarting:
      return "starting";
    case S::kRunning:
      return "running";
    case S::kStopping:
      return "stopping";
    case S::kBackingOff:
      return "backing-off";
    case S::kFailed:
      return "failed";
    case S::kExited:
      return "exited";
  }
  return "unknown";
}

std::string_view unitEventName(UnitEvent event) {
  switch (event) {
    case UnitEvent::kStart:
      return "start";
    case UnitEvent::kStop:
      return "stop";
    case UnitEvent::kSpawned:
      return "spawned";
    case UnitEvent::kEndedDone:
      return "ended";
    case UnitEvent::kEndedRestartNow:
      return "ended-restart-now";
    case UnitEvent::kEndedRestartLater:
      return "ended-restart-later";
    case UnitEvent::kEndedFail:
      return "ended-start-limit";
    case UnitEvent::kTimerFired:
      return "timer";
  }
  return "unknown";
}

}  // namespace vigie
