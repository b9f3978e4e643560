// The liveness probe's schedule and thresholds on a fake clock, with probe runs that finish when
// the test says: initial delay, period, timeout, failures in a row, recovery, reconfiguration.
#include <doctest/doctest.h>

#include <vector>

#include "agent/health/liveness_checker.h"
#include "tests/fakes/fake_dispatcher.h"
#include "tests/fakes/fake_probes.h"

namespace vigie {
namespace {

using testing::FakeDispatcher;
using testing::FakeProbeFactory;

ProbeSpec httpProbe() {
  ProbeSpec spec;
  spec.kind = ProbeSpec::Kind::kHttp;
  spec.port = 8080;
  spec.path = "/healthz";
  spec.period = 10s;
  spec.timeout = 1s;
  spec.failure_threshold = 3;
  spec.initial_delay = 5s;
  return spec;
}

struct Fixture {
  explicit Fixture(ProbeSpec spec = httpProbe())
      : started(dispatcher.monotonicNow()),
        checker(dispatcher, probes, spec, SpawnSpec{}, started, status,
                [this](HealthEvent event) { events.push_back(event); }) {}

  Duration elapsed() const { return dispatcher.monotonicNow() - started; }

  FakeDispatcher dispatcher;
  FakeProbeFactory probes;
  MonoTime started;
  LivenessStatus status;
  std::vector<HealthEvent> events;
  LivenessChecker checker;
};

TEST_CASE("health liveness: the first run comes after initial_delay, then one per period") {
  Fixture f;
  CHECK(f.status.state == ProbeState::kPending);
  CHECK(f.status.failure_threshold == 3);
  f.dispatcher.advance(5s - 1ms);
  CHECK(f.probes.starts == 0);
  f.dispatcher.advance(1ms);
  REQUIRE(f.probes.starts == 1);
  CHECK(f.probes.runs.back()->spec.path == "/healthz");
  REQUIRE(f.probes.pass());
  CHECK(f.status.state == ProbeState::kPassing);
  CHECK(f.status.last->status == "HTTP 200");
  CHECK(f.events == std::vector<HealthEvent>{HealthEvent::kProbePassing});
  // The next run is a period after the previous one started.
  f.dispatcher.advance(10s - 1ms);
  CHECK(f.probes.starts == 1);
  f.dispatcher.advance(1ms);
  CHECK(f.probes.starts == 2);
  CHECK(f.elapsed() == 15s);
}

TEST_CASE("health liveness: another pass with the same status announces nothing") {
  Fixture f;
  f.dispatcher.advance(5s);
  REQUIRE(f.probes.pass("HTTP 200"));
  f.dispatcher.advance(10s);
  REQUIRE(f.probes.pass("HTTP 200"));
  CHECK(f.events.size() == 1);
  f.dispatcher.advance(10s);
  REQUIRE(f.probes.pass("HTTP 204"));  // a new status is news for the API.
  CHECK(f.events.size() == 2);
}

TEST_CASE("health liveness: failure_threshold failures in a row end it once, then no more runs") {
  Fixture f;
  f.dispatcher.advance(5s);
  REQUIRE(f.probes.fail("HTTP 500"));
  CHECK(f.status.state == ProbeState::kFailing);
  CHECK(f.status.consecutive_failures == 1);
  f.dispatcher.advance(10s);
  REQUIRE(f.probes.fail("HTTP 503"));
  CHECK(f.events == std::vector<HealthEvent>{HealthEvent::kProbeFailed, HealthEvent::kProbeFailed});
  f.dispatcher.advance(10s);
  REQUIRE(f.probes.fail("HTTP 500"));
  CHECK(f.events == std::vector<HealthEvent>{HealthEvent::kProbeFailed, HealthEvent::kProbeFailed,
                                             HealthEvent::kProbeFailed,
                                             HealthEvent::kLivenessFailed});
  CHECK(f.status.consecutive_failures == 3);
  CHECK(f.status.failures == 3);
  CHECK(f.status.last_failure->status == "HTTP 500");
  CHECK(f.checker.stopped());
  CHECK(f.dispatcher.armedTimers() == 0);
  f.dispatcher.advance(1h);
  CHECK(f.probes.starts == 3);
}

TEST_CASE("health liveness: a pass resets the run of failures") {
  Fixture f;
  f.dispatcher.advance(5s);
  for (bool ok : {false, false, true, false, false}) {
    REQUIRE(f.probes.finish(ok, ok ? "HTTP 200" : "HTTP 500"));
    f.dispatcher.advance(10s);
  }
  CHECK(f.status.state == ProbeState::kFailing);
  CHECK(f.status.consecutive_failures == 2);
  CHECK(f.status.failures == 4);
  CHECK_FALSE(f.checker.stopped());
  CHECK(f.probes.starts == 6);  // the sixth run is in flight.
}

TEST_CASE("health liveness: a run with no result at its timeout is cancelled and failed") {
  Fixture f;
  f.dispatcher.advance(5s);
  REQUIRE(f.probes.inFlight() != nullptr);
  f.dispatcher.advance(1s - 1ms);
  CHECK(f.probes.cancelled() == 0);
  f.dispatcher.advance(1ms);
  CHECK(f.probes.cancelled() == 1);
  CHECK(f.status.state == ProbeState::kFailing);
  CHECK(f.status.last_failure->status == "timed out after 1s");
  CHECK(f.status.last_failure->at_mono - f.started == 6s);
  // The schedule holds: the next run is a period after the cancelled one started.
  f.dispatcher.advance(9s);
  CHECK(f.probes.starts == 2);
  CHECK(f.elapsed() == 15s);
}

TEST_CASE("health liveness: a run slower than the period is followed at once") {
  ProbeSpec spec = httpProbe();
  spec.timeout = 30s;
  Fixture f(spec);
  f.dispatcher.advance(5s);
  f.dispatcher.advance(12s);  // 2s past when the next run was due.
  REQUIRE(f.probes.pass());
  CHECK(f.probes.starts == 1);  // never two runs at once.
  f.dispatcher.advance(0s);
  CHECK(f.probes.starts == 2);
}

TEST_CASE("health liveness: a run that cannot start is a failed run at once") {
  Fixture f;
  f.probes.fail_starts = 1;
  f.dispatcher.advance(5s);
  CHECK(f.status.state == ProbeState::kFailing);
  CHECK(f.status.last_failure->status == "connect 127.0.0.1:8080: Connection refused");
  CHECK(f.events == std::vector<HealthEvent>{HealthEvent::kProbeFailed});
  f.dispatcher.advance(10s);
  CHECK(f.probes.starts == 2);
}

TEST_CASE("health liveness: a threshold of one ends it at the first failure") {
  ProbeSpec spec = httpProbe();
  spec.failure_threshold = 1;
  spec.initial_delay = 0s;
  Fixture f(spec);
  f.dispatcher.advance(0s);
  REQUIRE(f.probes.fail());
  CHECK(f.events.back() == HealthEvent::kLivenessFailed);
}

TEST_CASE("health liveness: a reconfigured probe cancels the run in flight and keeps the counts") {
  Fixture f;
  f.dispatcher.advance(5s);
  REQUIRE(f.probes.fail());
  f.dispatcher.advance(10s);
  REQUIRE(f.probes.inFlight() != nullptr);
  ProbeSpec next = httpProbe();
  next.path = "/ready";
  next.failure_threshold = 2;
  f.checker.reconfigure(next);
  CHECK(f.probes.cancelled() == 1);
  CHECK(f.status.failure_threshold == 2);
  // The instance is past its initial delay: the next run comes on the next loop turn.
  f.dispatcher.advance(0s);
  REQUIRE(f.probes.inFlight() != nullptr);
  CHECK(f.probes.inFlight()->spec.path == "/ready");
  REQUIRE(f.probes.fail());
  CHECK(f.events.back() == HealthEvent::kLivenessFailed);  // 2 in a row under the new threshold.
}

}  // namespace
}  // namespace vigie
