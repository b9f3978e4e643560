#include <doctest/doctest.h>

#include "vigie/restart_policy.h"

namespace vigie {
namespace {

BackoffSpec defaults() {
  return BackoffSpec{};
}

TEST_CASE("backoff: the first restart is immediate, then initial * 2^(n-2) up to max") {
  const BackoffSpec b = defaults();  // 100ms initial, 30s max.
  CHECK(backoffDelay(b, 1, 0.0) == Duration::zero());
  CHECK(backoffDelay(b, 2, 0.0) == 100ms);
  CHECK(backoffDelay(b, 3, 0.0) == 200ms);
  CHECK(backoffDelay(b, 4, 0.0) == 400ms);
  CHECK(backoffDelay(b, 10, 0.0) == 25600ms);
  CHECK(backoffDelay(b, 11, 0.0) == 30s);
  CHECK(backoffDelay(b, 1000000, 0.0) == 30s);
}

TEST_CASE("backoff: jitter only shortens, by at most 10%, and never exceeds max") {
  const BackoffSpec b = defaults();
  for (uint32_t n = 2; n < 40; ++n) {
    const Duration base = backoffDelay(b, n, 0.0);
    for (double jitter : {0.0, 0.25, 0.5, 0.999999}) {
      const Duration d = backoffDelay(b, n, jitter);
      CHECK(d <= base);
      CHECK(d <= b.max);
      CHECK(d >= base - base / 10 - 1ns);
    }
  }
  CHECK(backoffDelay(b, 3, 0.5) == 190ms);
}

TEST_CASE("backoff: max 0 or initial 0 turns it off") {
  BackoffSpec off = defaults();
  off.max = 0s;
  CHECK(backoffDelay(off, 5, 0.3) == Duration::zero());
  BackoffSpec zero_initial = defaults();
  zero_initial.initial = 0s;
  CHECK(backoffDelay(zero_initial, 5, 0.3) == Duration::zero());
}

WorkloadSpec specWith(RestartPolicyKind policy) {
  WorkloadSpec spec;
  spec.name = "w";
  spec.exec = {"/bin/true"};
  spec.restart.policy = policy;
  spec.success_exit_codes = {0, 3};
  return spec;
}

ExitStatus exited(int code) {
  ExitStatus s;
  s.kind = ExitStatus::Kind::kExited;
  s.code = code;
  return s;
}

ExitStatus killed(int sig, ExitStatus::Kind kind = ExitStatus::Kind::kKilled) {
  ExitStatus s;
  s.kind = kind;
  s.signal = sig;
  return s;
}

TEST_CASE("classifyExit follows success_exit_codes") {
  const WorkloadSpec spec = specWith(RestartPolicyKind::kAlways);
  CHECK(classifyExit(spec, exited(0)) == ExitKind::kSuccess);
  CHECK(classifyExit(spec, exited(3)) == ExitKind::kSuccess);
  CHECK(classifyExit(spec, exited(1)) == ExitKind::kFailure);
  CHECK(classifyExit(spec, killed(SIGSEGV, ExitStatus::Kind::kDumped)) == ExitKind::kSignal);
  CHECK(classifyExit(spec, killed(SIGKILL)) == ExitKind::kSignal);
}

TEST_CASE("policy x exit kind: who restarts") {
  struct Case {
    RestartPolicyKind policy;
    ExitKind kind;
    bool restarts;
  };
  const Case cases[] = {
      {RestartPolicyKind::kAlways, ExitKind::kSuccess, true},
      {RestartPolicyKind::kAlways, ExitKind::kFailure, true},
      {RestartPolicyKind::kAlways, ExitKind::kSignal, true},
      {RestartPolicyKind::kAlways, ExitKind::kSpawnFailed, true},
      {RestartPolicyKind::kOnFailure, ExitKind::kSuccess, false},
      {RestartPolicyKind::kOnFailure, ExitKind::kFailure, true},
      {RestartPolicyKind::kOnFailure, ExitKind::kSignal, true},
      {RestartPolicyKind::kOnFailure, ExitKind::kSpawnFailed, true},
      {RestartPolicyKind::kNever, ExitKind::kSuccess, false},
      {RestartPolicyKind::kNever, ExitKind::kFailure, false},
      {RestartPolicyKind::kNever, ExitKind::kSignal, false},
      {RestartPolicyKind::kNever, ExitKind::kSpawnFailed, false},
  };
  const MonoTime t0{};
  for (const Case& c : cases) {
    CAPTURE(static_cast<int>(c.policy));
    CAPTURE(static_cast<int>(c.kind));
    RestartTracker tracker(specWith(c.policy).restart);
    const RestartDecision d = tracker.onExit(c.kind, 1s, t0, 0.0);
    CHECK((d.action != RestartDecision::Action::kDone) == c.restarts);
    if (c.restarts) {
      CHECK(d.action == RestartDecision::Action::kRestartNow);
    }
  }
}

TEST_CASE("tracker: backoff grows per restart and resets after reset_after of uptime") {
  RestartSpec spec;  // 100ms, 30s, reset 60s; limit 10 in 60s.
  spec.limit.burst = 0;
  RestartTracker tracker(spec);
  MonoTime now{};
  auto crash = [&](Duration uptime) {
    now += uptime;
    return tracker.onExit(ExitKind::kFailure, uptime, now, 0.0);
  };
  CHECK(crash(1s).action == RestartDecision::Action::kRestartNow);
  RestartDecision d = crash(1s);
  CHECK(d.action == RestartDecision::Action::kRestartLater);
  CHECK(d.delay == 100ms);
  CHECK(crash(1s).delay == 200ms);
  CHECK(crash(1s).delay == 400ms);
  CHECK(tracker.restartCount() == 4);
  // A long healthy run: the next crash is a first crash again.
  d = crash(60s);
  CHECK(d.action == RestartDecision::Action::kRestartNow);
  CHECK(tracker.restartCount() == 1);
  CHECK(crash(59s).delay == 100ms);
}

TEST_CASE("tracker: burst restarts within interval -> failed -> slow retry, never abandoned") {
  RestartSpec spec;
  spec.backoff.initial = 10ms;
  spec.backoff.max = 1s;
  spec.limit.burst = 3;
  spec.limit.interval = 20s;
  RestartTracker tracker(spec);
  MonoTime now{};
  auto crash = [&]() {
    now += 100ms;
    return tracker.onExit(ExitKind::kSignal, 100ms, now, 0.0);
  };
  CHECK(crash().action == RestartDecision::Action::kRestartNow);
  CHECK(crash().action == RestartDecision::Action::kRestartLater);
  CHECK(crash().action == RestartDecision::Action::kRestartLater);
  RestartDecision d = crash();
  CHECK(d.action == RestartDecision::Action::kFail);
  CHECK(d.delay == 20s);  // max(backoff.max, limit.interval)
  CHECK(tracker.failed());
  // Each slow retry that crashes again goes straight back to failed.
  now += 20s;
  d = crash();
  CHECK(d.action == RestartDecision::Action::kFail);
  CHECK(d.delay == 20s);
  // A retry that runs reset_after is healthy again: the next crash restarts at once.
  now += 61s;
  d = tracker.onExit(ExitKind::kFailure, 61s, now, 0.0);
  CHECK(d.action == RestartDecision::Action::kRestartNow);
  CHECK_FALSE(tracker.failed());
}

TEST_CASE("tracker: restarts spread wider than the interval never hit the limit") {
  RestartSpec spec;
  spec.backoff.max = 0s;  // every restart immediate
  spec.limit.burst = 2;
  spec.limit.interval = 10s;
  RestartTracker tracker(spec);
  MonoTime now{};
  for (int i = 0; i < 20; ++i) {
    now += 6s;
    CHECK(tracker.onExit(ExitKind::kFailure, 6s, now, 0.0).action ==
          RestartDecision::Action::kRestartNow);
  }
}

TEST_CASE("tracker: burst 0 turns the limit off, backoff max 0 makes every restart immediate") {
  RestartSpec spec;
  spec.backoff.initial = 0s;
  spec.backoff.max = 0s;
  spec.limit.burst = 0;
  RestartTracker tracker(spec);
  MonoTime now{};
  for (int i = 0; i < 1000; ++i) {
    now += 1ms;
    REQUIRE(tracker.onExit(ExitKind::kFailure, 1ms, now, 0.5).action ==
            RestartDecision::Action::kRestartNow);
  }
}

TEST_CASE("tracker: failed spawns are not retried in a hot loop even with backoff off") {
  RestartSpec spec;
  spec.backoff.max = 0s;
  spec.limit.burst = 0;
  RestartTracker tracker(spec);
  MonoTime now{};
  CHECK(tracker.onExit(ExitKind::kSpawnFailed, 0s, now, 0.0).action ==
        RestartDecision::Action::kRestartNow);
  const RestartDecision d = tracker.onExit(ExitKind::kSpawnFailed, 0s, now, 0.0);
  CHECK(d.action == RestartDecision::Action::kRestartLater);
  CHECK(d.delay == kSpawnFailureRetryFloor);
}

TEST_CASE("tracker: reset() forgets the history (an operator start)") {
  RestartSpec spec;
  spec.limit.burst = 1;
  RestartTracker tracker(spec);
  MonoTime now{};
  CHECK(tracker.onExit(ExitKind::kFailure, 1s, now, 0.0).action ==
        RestartDecision::Action::kRestartNow);
  CHECK(tracker.onExit(ExitKind::kFailure, 1s, now, 0.0).action == RestartDecision::Action::kFail);
  tracker.reset();
  CHECK(tracker.onExit(ExitKind::kFailure, 1s, now, 0.0).action ==
        RestartDecision::Action::kRestartNow);
}

}  // namespace
}  // namespace vigie
