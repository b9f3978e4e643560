// The unit state machine driven by a fake clock and a fake spawner: no process, no sleep.
#include <doctest/doctest.h>

#include <vector>

#include "agent/supervisor/supervisor.h"
#include "tests/fakes/fake_dispatcher.h"
#include "tests/fakes/fake_spawner.h"

namespace vigie {
namespace {

using testing::FakeDispatcher;
using testing::FakeSpawner;

class RecordingObserver final : public UnitObserver {
 public:
  void onStateChanged(const Unit&, UnitState, UnitState to) override { states.push_back(to); }
  void onInstanceStarted(const Unit&, const InstanceRecord&) override { ++started; }
  void onSpawnFailed(const Unit&, const InstanceRecord& instance) override {
    spawn_errors.push_back(instance.spawn_error);
  }
  void onInstanceEnded(const Unit&, const InstanceRecord&, const RestartDecision& decision,
                       bool) override {
    decisions.push_back(decision.action);
  }

  std::vector<UnitState> states;
  std::vector<std::string> spawn_errors;
  std::vector<RestartDecision::Action> decisions;
  int started = 0;
};

struct Fixture {
  Fixture()
      : spawner(dispatcher),
        supervisor(dispatcher, spawner, observer, [] { return 0.0; },
                   {"PATH=/usr/bin:/bin", "HOME=/root"}) {}

  Unit& add(WorkloadSpec spec) {
    AgentConfig config;
    config.workloads.push_back(std::move(spec));
    supervisor.load(config);
    return *supervisor.units().back();
  }

  FakeDispatcher dispatcher;
  FakeSpawner spawner;
  RecordingObserver observer;
  Supervisor supervisor;
};

WorkloadSpec workload(const std::string& name) {
  WorkloadSpec spec;
  spec.name = name;
  spec.exec = {"/usr/bin/server", "--port", "80"};
  return spec;
}

TEST_CASE("unit: first restart is immediate, no timer, then backoff through the timer") {
  Fixture f;
  Unit& unit = f.add(workload("web"));
  unit.start();
  CHECK(unit.state() == UnitState::kRunning);
  CHECK(f.spawner.spawn_calls == 1);

  f.spawner.exitLatestWithCode(1);
  CHECK(unit.state() == UnitState::kRunning);
  CHECK(f.spawner.spawn_calls == 2);
  CHECK(f.dispatcher.armedTimers() == 0);
  CHECK(unit.restartCount() == 1);

  f.spawner.killLatest(SIGSEGV, /*core=*/true);
  CHECK(unit.state() == UnitState::kBackingOff);
  REQUIRE(unit.nextStartAt().has_value());
  CHECK(*unit.nextStartAt() - f.dispatcher.monotonicNow() == 100ms);
  f.dispatcher.advance(99ms);
  CHECK(f.spawner.spawn_calls == 2);
  f.dispatcher.advance(1ms);
  CHECK(f.spawner.spawn_calls == 3);
  CHECK(unit.state() == UnitState::kRunning);

  f.spawner.exitLatestWithCode(2);
  CHECK(*unit.nextStartAt() - f.dispatcher.monotonicNow() == 200ms);
  CHECK(unit.instances().size() == 3);
  CHECK(unit.instances()[1]->exit->signal == SIGSEGV);
  CHECK(unit.instances()[1]->exit->coreDumped());
  CHECK(unit.totalRestarts() == 2);
}

TEST_CASE("unit: burst -> failed -> slow retry every max(backoff.max, interval)") {
  Fixture f;
  WorkloadSpec spec = workload("loop");
  spec.restart.backoff = {10ms, 1s, 60s};
  spec.restart.limit = {3, 30s};
  Unit& unit = f.add(spec);
  unit.start();
  f.spawner.exitLatestWithCode(1);  // restart 1: immediate
  f.spawner.exitLatestWithCode(1);  // restart 2: 10ms
  f.dispatcher.advance(10ms);
  f.spawner.exitLatestWithCode(1);  // restart 3: 20ms
  f.dispatcher.advance(20ms);
  CHECK(f.spawner.spawn_calls == 4);
  f.spawner.exitLatestWithCode(1);  // the 4th restart within 30s: start limit
  CHECK(unit.state() == UnitState::kFailed);
  CHECK(*unit.nextStartAt() - f.dispatcher.monotonicNow() == 30s);

  f.dispatcher.advance(29s);
  CHECK(unit.state() == UnitState::kFailed);
  f.dispatcher.advance(1s);
  CHECK(unit.state() == UnitState::kRunning);
  CHECK(f.spawner.spawn_calls == 5);
  // Still crashing: straight back to failed, retried again after 30s, forever.
  for (int i = 0; i < 5; ++i) {
    f.spawner.exitLatestWithCode(1);
    CHECK(unit.state() == UnitState::kFailed);
    f.dispatcher.advance(30s);
    CHECK(unit.state() == UnitState::kRunning);
  }
  // It recovers: runs past reset_after, then a crash is a first crash again.
  f.dispatcher.advance(61s);
  f.spawner.exitLatestWithCode(1);
  CHECK(unit.state() == UnitState::kRunning);
  CHECK(unit.restartCount() == 1);
}

TEST_CASE("unit: on-failure and never") {
  Fixture f;
  WorkloadSpec batch = workload("batch");
  batch.restart.policy = RestartPolicyKind::kOnFailure;
  WorkloadSpec once = workload("once");
  once.restart.policy = RestartPolicyKind::kNever;
  Unit& b = f.add(batch);
  b.start();
  f.spawner.exitLatestWithCode(1);
  CHECK(b.state() == UnitState::kRunning);  // a failure is restarted
  f.spawner.exitLatestWithCode(0);
  CHECK(b.state() == UnitState::kExited);
  CHECK(f.spawner.spawn_calls == 2);

  Unit& o = f.add(once);
  o.start();
  f.spawner.killLatest(SIGKILL);
  CHECK(o.state() == UnitState::kExited);
  CHECK(f.spawner.spawn_calls == 3);
  CHECK(f.dispatcher.armedTimers() == 0);
}

TEST_CASE("unit: stop sends stop.signal to the group, SIGKILL after stop.timeout") {
  Fixture f;
  WorkloadSpec spec = workload("stubborn");
  spec.stop = {SIGINT, 5s};
  Unit& unit = f.add(spec);
  unit.start();
  testing::FakeProcess* process = f.spawner.latest;
  unit.stop();
  CHECK(unit.state() == UnitState::kStopping);
  CHECK(process->group_signals == std::vector<int>{SIGINT});
  f.dispatcher.advance(4999ms);
  CHECK(process->group_signals.size() == 1);
  f.dispatcher.advance(1ms);
  CHECK(process->group_signals == std::vector<int>{SIGINT, SIGKILL});
  f.spawner.killLatest(SIGKILL);
  CHECK(unit.state() == UnitState::kStopped);
  CHECK(f.spawner.spawn_calls == 1);  // not restarted
  CHECK(f.dispatcher.armedTimers() == 0);
}

TEST_CASE("unit: stopping a backing-off unit cancels the restart") {
  Fixture f;
  Unit& unit = f.add(workload("w"));
  unit.start();
  f.spawner.exitLatestWithCode(1);
  f.spawner.exitLatestWithCode(1);
  CHECK(unit.state() == UnitState::kBackingOff);
  unit.stop();
  CHECK(unit.state() == UnitState::kStopped);
  f.dispatcher.advance(1h);
  CHECK(f.spawner.spawn_calls == 2);
}

TEST_CASE("unit: a failed spawn is an error on the unit, counted, and retried with backoff") {
  Fixture f;
  f.spawner.fail_spawns = 3;
  Unit& unit = f.add(workload("missing"));
  unit.start();
  // The first retry is immediate (and fails again), then the floor for failed spawns applies.
  CHECK(f.spawner.spawn_calls == 2);
  CHECK(unit.failedStarts() == 2);
  CHECK(unit.state() == UnitState::kBackingOff);
  CHECK(*unit.nextStartAt() - f.dispatcher.monotonicNow() == kSpawnFailureRetryFloor);
  REQUIRE(f.observer.spawn_errors.size() == 2);
  CHECK(f.observer.spawn_errors[0].find("No such file") != std::string::npos);
  CHECK(unit.instances().back()->spawn_error == f.observer.spawn_errors[1]);
  f.dispatcher.advance(kSpawnFailureRetryFloor);
  f.dispatcher.advance(kSpawnFailureRetryFloor);
  CHECK(f.spawner.spawn_calls == 4);
  CHECK(unit.state() == UnitState::kRunning);
}

TEST_CASE("unit: keeps the last `history` instances besides the current one") {
  Fixture f;
  WorkloadSpec spec = workload("w");
  spec.history = 2;
  spec.restart.backoff.max = 0s;
  Unit& unit = f.add(spec);
  unit.start();
  for (int i = 0; i < 10; ++i) {
    f.spawner.exitLatestWithCode(i + 1);
  }
  REQUIRE(unit.instances().size() == 3);
  CHECK(unit.instances()[0]->id == 9);
  CHECK(unit.instances()[0]->exit->code == 9);
  CHECK(unit.instances()[1]->exit->code == 10);
  CHECK(unit.instances()[2]->id == 11);
  CHECK(unit.currentInstance() == unit.instances()[2].get());
}

TEST_CASE("unit: the spawn spec is prepared once with the workload environment") {
  Fixture f;
  WorkloadSpec spec = workload("w");
  spec.env = {{"HOME", "/srv"}, {"MODE", "prod"}};
  Unit& unit = f.add(spec);
  unit.start();
  const SpawnSpec& s = *f.spawner.last_spec;
  CHECK(s.argv == spec.exec);
  CHECK(s.cwd == "/");
  CHECK(s.env == std::vector<std::string>{"PATH=/usr/bin:/bin", "HOME=/srv", "MODE=prod"});
}

TEST_CASE("supervisor: workload environment drops the agent's own systemd variables") {
  const char* entries[] = {
      "PATH=/bin",    "NOTIFY_SOCKET=/run/n", "WATCHDOG_USEC=1", "WATCHDOG_PID=3",
      "LISTEN_FDS=2", "LISTEN_PID=1",         "LANG=C.UTF-8",    nullptr};
  const auto env = Supervisor::workloadBaseEnv(const_cast<char**>(entries));
  CHECK(env == std::vector<std::string>{"PATH=/bin", "LANG=C.UTF-8"});
}

TEST_CASE("supervisor: stopAll stops every unit in parallel and reports once all are down") {
  Fixture f;
  Unit& a = f.add(workload("a"));
  Unit& b = f.add(workload("b"));
  Unit& c = f.add(workload("c"));
  f.supervisor.startAll();
  REQUIRE(f.spawner.spawned.size() == 3);
  testing::FakeProcess* pa = f.spawner.spawned[0];
  testing::FakeProcess* pb = f.spawner.spawned[1];
  f.spawner.exitLatestWithCode(1);  // c restarts at once
  f.spawner.exitLatestWithCode(1);  // c backs off
  CHECK(c.state() == UnitState::kBackingOff);

  int done = 0;
  f.supervisor.stopAll([&] { ++done; });
  CHECK(a.state() == UnitState::kStopping);
  CHECK(b.state() == UnitState::kStopping);
  CHECK(c.state() == UnitState::kStopped);
  CHECK(pa->group_signals == std::vector<int>{SIGTERM});
  CHECK(pb->group_signals == std::vector<int>{SIGTERM});
  // Both get SIGKILL at the same deadline: in parallel, not one after the other.
  f.dispatcher.advance(10s);
  CHECK(pa->group_signals == std::vector<int>{SIGTERM, SIGKILL});
  CHECK(pb->group_signals == std::vector<int>{SIGTERM, SIGKILL});
  f.spawner.exitProcess(pa, ExitStatus{ExitStatus::Kind::kKilled, 0, SIGKILL});
  CHECK(done == 0);
  f.spawner.exitProcess(pb, ExitStatus{ExitStatus::Kind::kKilled, 0, SIGKILL});
  CHECK(done == 1);
  CHECK(f.spawner.spawn_calls == 4);
}

}  // namespace
}  // namespace vigie
