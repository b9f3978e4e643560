#include <doctest/doctest.h>

#include "vigie/unit_lifecycle.h"

namespace vigie {
namespace {

using S = UnitState;
using E = UnitEvent;
using A = UnitAction;

void expect(S from, E event, S to, A action) {
  CAPTURE(unitStateName(from));
  CAPTURE(unitEventName(event));
  const UnitTransition t = unitTransition(from, event);
  CHECK(unitStateName(t.next) == unitStateName(to));
  CHECK(static_cast<int>(t.action) == static_cast<int>(action));
}

TEST_CASE("lifecycle: the normal path and every way an instance ends") {
  expect(S::kStopped, E::kStart, S::kStarting, A::kSpawn);
  expect(S::kStarting, E::kSpawned, S::kRunning, A::kNone);
  expect(S::kRunning, E::kEndedRestartNow, S::kStarting, A::kSpawn);
  expect(S::kRunning, E::kEndedRestartLater, S::kBackingOff, A::kArmRestartTimer);
  expect(S::kRunning, E::kEndedFail, S::kFailed, A::kArmRetryTimer);
  expect(S::kRunning, E::kEndedDone, S::kExited, A::kNone);
  expect(S::kBackingOff, E::kTimerFired, S::kStarting, A::kSpawn);
  expect(S::kFailed, E::kTimerFired, S::kStarting, A::kSpawn);
}

TEST_CASE("lifecycle: a failed spawn is judged by the policy like any end") {
  expect(S::kStarting, E::kEndedRestartNow, S::kStarting, A::kSpawn);
  expect(S::kStarting, E::kEndedRestartLater, S::kBackingOff, A::kArmRestartTimer);
  expect(S::kStarting, E::kEndedFail, S::kFailed, A::kArmRetryTimer);
  expect(S::kStarting, E::kEndedDone, S::kExited, A::kNone);
}

TEST_CASE("lifecycle: stop wins over the restart policy") {
  expect(S::kRunning, E::kStop, S::kStopping, A::kSendStopSignal);
  expect(S::kStopping, E::kTimerFired, S::kStopping, A::kKill);
  for (E ended : {E::kEndedDone, E::kEndedRestartNow, E::kEndedRestartLater, E::kEndedFail}) {
    expect(S::kStopping, ended, S::kStopped, A::kCancelTimer);
  }
  expect(S::kBackingOff, E::kStop, S::kStopped, A::kCancelTimer);
  expect(S::kFailed, E::kStop, S::kStopped, A::kCancelTimer);
  expect(S::kExited, E::kStop, S::kStopped, A::kNone);
}

TEST_CASE("lifecycle: an operator start cuts a backoff or a failed wait short") {
  expect(S::kBackingOff, E::kStart, S::kStarting, A::kSpawn);
  expect(S::kFailed, E::kStart, S::kStarting, A::kSpawn);
  expect(S::kExited, E::kStart, S::kStarting, A::kSpawn);
}

TEST_CASE("lifecycle: events that mean nothing in a state are ignored, never acted on") {
  expect(S::kRunning, E::kStart, S::kRunning, A::kIgnore);
  expect(S::kStopping, E::kStart, S::kStopping, A::kIgnore);
  expect(S::kStopped, E::kStop, S::kStopped, A::kIgnore);
  expect(S::kStopped, E::kTimerFired, S::kStopped, A::kIgnore);
  expect(S::kRunning, E::kTimerFired, S::kRunning, A::kIgnore);
  // A stale timer never starts a stopped or exited unit.
  expect(S::kExited, E::kTimerFired, S::kExited, A::kIgnore);
}

TEST_CASE("lifecycle: every cell of the table names a real state") {
  for (int s = 0; s <= static_cast<int>(S::kExited); ++s) {
    for (int e = 0; e <= static_cast<int>(E::kTimerFired); ++e) {
      const UnitTransition t = unitTransition(static_cast<S>(s), static_cast<E>(e));
      CHECK(unitStateName(t.next) != "unknown");
      if (t.action == A::kIgnore) {
        CHECK(static_cast<int>(t.next) == s);
      }
    }
  }
}

}  // namespace
}  // namespace vigie
