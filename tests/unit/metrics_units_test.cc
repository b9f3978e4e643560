// The per-unit metrics on a fake clock: a real Supervisor with fake processes reports to
// UnitMetrics, and the exposition text says what Prometheus would scrape.
#include <doctest/doctest.h>
#include <prometheus/registry.h>

#include <csignal>
#include <optional>
#include <string>

#include "agent/metrics/exposition.h"
#include "agent/metrics/unit_metrics.h"
#include "agent/supervisor/supervisor.h"
#include "tests/fakes/fake_cgroups.h"
#include "tests/fakes/fake_dispatcher.h"
#include "tests/fakes/fake_spawner.h"
#include "tests/fakes/metrics_text.h"
#include "tests/fakes/null_observer.h"
#include "tests/fakes/specs.h"

namespace vigie {
namespace {

using testing::configOf;
using testing::FakeCgroupManager;
using testing::FakeDispatcher;
using testing::FakeProcess;
using testing::FakeSpawner;
using testing::NullObserver;
using testing::sample;
using testing::sampleValue;
using testing::testWorkload;

struct Fixture {
  Fixture()
      : spawner(dispatcher),
        metrics(next, registry, dispatcher),
        supervisor(dispatcher, spawner, metrics, [] { return 0.0; }, {"PATH=/bin"}) {
    metrics.track(supervisor);
  }

  std::string text() const { return exposition({&registry}); }
  double value(const std::string& series) const { return sampleValue(text(), series); }
  bool has(const std::string& series) const { return sample(text(), series).has_value(); }
  FakeProcess* processOf(const std::string& name) {
    Unit* unit = supervisor.find(name);
    REQUIRE(unit != nullptr);
    REQUIRE(unit->currentInstance() != nullptr);
    return static_cast<FakeProcess*>(unit->currentInstance()->process.get());
  }

  FakeDispatcher dispatcher;
  FakeSpawner spawner;
  NullObserver next;
  prometheus::Registry registry;
  UnitMetrics metrics;
  Supervisor supervisor;
};

TEST_CASE("metrics: a running unit is up, in state running, with every series at zero") {
  Fixture f;
  f.supervisor.load(configOf({testWorkload("web")}));
  f.supervisor.startAll();

  CHECK(f.value(R"(vigie_unit_up{unit="web"})") == 1);
  CHECK(f.value(R"(vigie_unit_state{state="running",unit="web"})") == 1);
  for (const char* state : {"stopped", "starting", "stopping", "backing-off", "failed", "exited"}) {
    CHECK(f.value(std::string(R"(vigie_unit_state{state=")") + state + R"(",unit="web"})") == 0);
  }
  CHECK(f.value(R"(vigie_unit_restarts_total{unit="web"})") == 0);
  for (const char* reason :
       {"success", "failure", "killed", "dumped", "lost", "spawn_failed", "stopped"}) {
    CHECK(f.value(std::string(R"(vigie_unit_exits_total{reason=")") + reason +
                  R"(",unit="web"})") == 0);
  }
  CHECK(f.value(R"(vigie_restart_latency_seconds_count{restart="immediate"})") == 0);
  CHECK(f.value(R"(vigie_restart_latency_seconds_count{restart="backoff"})") == 0);
}

TEST_CASE(
    "metrics: a crash and its immediate restart count the exit, the restart and the latency") {
  Fixture f;
  f.supervisor.load(configOf({testWorkload("web")}));
  f.supervisor.startAll();
  f.dispatcher.advance(5s);
  f.spawner.killLatest(SIGSEGV, /*core=*/true);

  CHECK(f.value(R"(vigie_unit_exits_total{reason="dumped",unit="web"})") == 1);
  CHECK(f.value(R"(vigie_unit_restarts_total{unit="web"})") == 1);
  CHECK(f.value(R"(vigie_unit_up{unit="web"})") == 1);
  CHECK(f.value(R"(vigie_unit_state{state="running",unit="web"})") == 1);
  // The fake restart takes no time at all: one observation, in the first bucket.
  CHECK(f.value(R"(vigie_restart_latency_seconds_count{restart="immediate"})") == 1);
  CHECK(f.value(R"(vigie_restart_latency_seconds_bucket{restart="immediate",le="0.0005"})") == 1);
  CHECK(f.value(R"(vigie_restart_latency_seconds_sum{restart="immediate"})") == 0);
  CHECK(f.value(R"(vigie_restart_latency_seconds_count{restart="backoff"})") == 0);
}

TEST_CASE("metrics: a backoff restart is timed from the exit to the new start") {
  Fixture f;
  WorkloadSpec spec = testWorkload("web");
  spec.restart.backoff.initial = 100ms;
  f.supervisor.load(configOf({spec}));
  f.supervisor.startAll();
  f.spawner.exitLatestWithCode(1);  // restart 1: immediate.
  f.spawner.exitLatestWithCode(1);  // restart 2: after 100ms (no jitter).

  CHECK(f.value(R"(vigie_unit_state{state="backing-off",unit="web"})") == 1);
  CHECK(f.value(R"(vigie_unit_up{unit="web"})") == 0);
  CHECK(f.value(R"(vigie_unit_exits_total{reason="failure",unit="web"})") == 2);
  CHECK(f.value(R"(vigie_restart_latency_seconds_count{restart="backoff"})") == 0);

  f.dispatcher.advance(100ms);
  CHECK(f.value(R"(vigie_unit_up{unit="web"})") == 1);
  CHECK(f.value(R"(vigie_unit_restarts_total{unit="web"})") == 2);
  CHECK(f.value(R"(vigie_restart_latency_seconds_count{restart="backoff"})") == 1);
  CHECK(f.value(R"(vigie_restart_latency_seconds_sum{restart="backoff"})") == doctest::Approx(0.1));
  CHECK(f.value(R"(vigie_restart_latency_seconds_bucket{restart="backoff",le="0.05"})") == 0);
  CHECK(f.value(R"(vigie_restart_latency_seconds_bucket{restart="backoff",le="0.1"})") == 1);
  CHECK(f.value(R"(vigie_restart_latency_seconds_count{restart="immediate"})") == 1);
}

TEST_CASE("metrics: a stop during the backoff cancels the pending restart's timing") {
  Fixture f;
  f.supervisor.load(configOf({testWorkload("web")}));
  f.supervisor.startAll();
  f.spawner.exitLatestWithCode(1);
  f.spawner.exitLatestWithCode(1);
  REQUIRE(f.supervisor.find("web")->state() == UnitState::kBackingOff);
  f.supervisor.find("web")->stop();
  f.dispatcher.advance(1s);
  f.supervisor.find("web")->start();

  CHECK(f.value(R"(vigie_unit_up{unit="web"})") == 1);
  CHECK(f.value(R"(vigie_restart_latency_seconds_count{restart="backoff"})") == 0);
  CHECK(f.value(R"(vigie_restart_latency_seconds_count{restart="immediate"})") == 1);
}

TEST_CASE("metrics: exit reasons are success, failure, killed, lost, spawn_failed and stopped") {
  Fixture f;
  WorkloadSpec spec = testWorkload("job");
  spec.restart.backoff.max = 0s;  // every restart immediate: one process after another.
  spec.restart.limit.burst = 0;
  spec.restart.policy = RestartPolicyKind::kAlways;
  f.supervisor.load(configOf({spec}));
  f.supervisor.startAll();

  f.spawner.exitLatestWithCode(0);
  f.spawner.exitLatestWithCode(2);
  f.spawner.killLatest(SIGKILL);
  ExitStatus lost;
  lost.kind = ExitStatus::Kind::kLost;
  f.spawner.exitLatest(lost);
  f.spawner.fail_spawns = 1;
  f.spawner.exitLatestWithCode(2);  // its restart fails to spawn, and is retried later.
  f.dispatcher.advance(kSpawnFailureRetryFloor);
  REQUIRE(f.supervisor.find("job")->state() == UnitState::kRunning);
  f.supervisor.find("job")->stop();
  f.spawner.killLatest(SIGTERM);

  CHECK(f.value(R"(vigie_unit_exits_total{reason="success",unit="job"})") == 1);
  CHECK(f.value(R"(vigie_unit_exits_total{reason="failure",unit="job"})") == 2);
  CHECK(f.value(R"(vigie_unit_exits_total{reason="killed",unit="job"})") == 1);
  CHECK(f.value(R"(vigie_unit_exits_total{reason="lost",unit="job"})") == 1);
  CHECK(f.value(R"(vigie_unit_exits_total{reason="spawn_failed",unit="job"})") == 1);
  CHECK(f.value(R"(vigie_unit_exits_total{reason="stopped",unit="job"})") == 1);
  CHECK(f.value(R"(vigie_unit_exits_total{reason="dumped",unit="job"})") == 0);
  CHECK(f.value(R"(vigie_unit_state{state="stopped",unit="job"})") == 1);
  CHECK(f.value(R"(vigie_unit_up{unit="job"})") == 0);
  // Every start after the first, the failed spawn included: what the unit itself counts.
  CHECK(f.value(R"(vigie_unit_restarts_total{unit="job"})") ==
        static_cast<double>(f.supervisor.find("job")->totalRestarts()));
  CHECK(f.supervisor.find("job")->totalRestarts() == 6);
}

// The same, with units in fake cgroups: what an instance's end learns from its cgroup.
struct CgroupFixture {
  CgroupFixture()
      : spawner(dispatcher),
        metrics(next, registry, dispatcher),
        supervisor(
            dispatcher, spawner, metrics, [] { return 0.0; }, {"PATH=/bin"}, nullptr, &cgroups) {
    metrics.track(supervisor);
  }

  double value(const std::string& series) const {
    return sampleValue(exposition({&registry}), series);
  }

  FakeDispatcher dispatcher;
  FakeSpawner spawner;
  NullObserver next;
  prometheus::Registry registry;
  UnitMetrics metrics;
  FakeCgroupManager cgroups;  // before the supervisor: it outlives the units' cgroups.
  Supervisor supervisor;
};

TEST_CASE("metrics: an OOM kill counts in vigie_unit_oom_kills_total, other ends do not") {
  CgroupFixture f;
  WorkloadSpec spec = testWorkload("hog");
  spec.restart.backoff.max = 0s;  // every restart immediate.
  spec.restart.limit.burst = 0;
  spec.restart.policy = RestartPolicyKind::kAlways;
  f.supervisor.load(configOf({spec}));
  f.supervisor.startAll();
  const std::string oom = R"(vigie_unit_oom_kills_total{unit="hog"})";
  CHECK(f.value(oom) == 0);

  f.cgroups.units["hog"]->next_stats.oom_kills = 1;
  f.spawner.killLatest(SIGKILL);
  CHECK(f.value(oom) == 1);
  CHECK(f.value(R"(vigie_unit_exits_total{reason="killed",unit="hog"})") == 1);

  // A SIGKILL from someone else, an exit after a child's OOM kill, a clean exit: none is one.
  f.spawner.killLatest(SIGKILL);
  f.cgroups.units["hog"]->next_stats.oom_kills = 1;
  f.spawner.exitLatestWithCode(1);
  f.spawner.exitLatestWithCode(0);
  CHECK(f.value(oom) == 1);

  f.cgroups.units["hog"]->next_stats.oom_kills = 2;
  f.spawner.killLatest(SIGKILL);
  CHECK(f.value(oom) == 2);
}

TEST_CASE("metrics: units removed by a reload lose their series, added ones get theirs") {
  Fixture f;
  f.supervisor.load(configOf({testWorkload("a"), testWorkload("b")}));
  f.supervisor.startAll();
  FakeProcess* b = f.processOf("b");
  REQUIRE(f.has(R"(vigie_unit_up{unit="b"})"));

  f.supervisor.reload(configOf({testWorkload("a"), testWorkload("c")}));
  f.metrics.syncUnits();
  CHECK_FALSE(f.has(R"(vigie_unit_up{unit="b"})"));
  CHECK_FALSE(f.has(R"(vigie_unit_exits_total{reason="stopped",unit="b"})"));
  CHECK(f.value(R"(vigie_unit_up{unit="c"})") == 1);
  CHECK(f.value(R"(vigie_unit_state{state="running",unit="c"})") == 1);
  CHECK(f.value(R"(vigie_unit_up{unit="a"})") == 1);

  // The removed unit is still stopping: its end must not bring its series back.
  f.spawner.exitProcess(b, ExitStatus{ExitStatus::Kind::kKilled, 0, SIGTERM});
  f.dispatcher.runPosted();
  CHECK_FALSE(f.has(R"(vigie_unit_up{unit="b"})"));
  CHECK(f.text().find(R"(unit="b")") == std::string::npos);
}

TEST_CASE("metrics: a unit removed and added again starts from fresh series") {
  Fixture f;
  f.supervisor.load(configOf({testWorkload("a")}));
  f.supervisor.startAll();
  f.spawner.exitLatestWithCode(1);
  REQUIRE(f.value(R"(vigie_unit_restarts_total{unit="a"})") == 1);

  f.supervisor.reload(configOf({}));
  f.metrics.syncUnits();
  f.spawner.killLatest(SIGTERM);
  f.dispatcher.runPosted();
  CHECK_FALSE(f.has(R"(vigie_unit_up{unit="a"})"));

  f.supervisor.reload(configOf({testWorkload("a")}));
  f.metrics.syncUnits();
  CHECK(f.value(R"(vigie_unit_up{unit="a"})") == 1);
  CHECK(f.value(R"(vigie_unit_restarts_total{unit="a"})") == 0);
  CHECK(f.value(R"(vigie_unit_exits_total{reason="failure",unit="a"})") == 0);
}

TEST_CASE("metrics: the exposition names each family with HELP and TYPE") {
  Fixture f;
  f.supervisor.load(configOf({testWorkload("web")}));
  f.supervisor.startAll();
  const std::string text = f.text();
  CHECK(text.find("# TYPE vigie_unit_up gauge\n") != std::string::npos);
  CHECK(text.find("# TYPE vigie_unit_state gauge\n") != std::string::npos);
  CHECK(text.find("# TYPE vigie_unit_restarts_total counter\n") != std::string::npos);
  CHECK(text.find("# TYPE vigie_unit_exits_total counter\n") != std::string::npos);
  CHECK(text.find("# TYPE vigie_unit_oom_kills_total counter\n") != std::string::npos);
  CHECK(text.find("vigie_unit_oom_kills_total{unit=\"web\"} 0\n") != std::string::npos);
  CHECK(text.find("# TYPE vigie_restart_latency_seconds histogram\n") != std::string::npos);
  CHECK(text.find("# HELP vigie_unit_up 1 while the unit's process runs") != std::string::npos);
  CHECK(text.find(R"(vigie_restart_latency_seconds_bucket{restart="immediate",le="+Inf"} 0)") !=
        std::string::npos);
}

}  // namespace
}  // namespace vigie
