// Reload on a fake clock: only what changed is touched.
#include <doctest/doctest.h>

#include "agent/supervisor/supervisor.h"
#include "tests/fakes/fake_dispatcher.h"
#include "tests/fakes/fake_spawner.h"
#include "tests/fakes/null_observer.h"
#include "tests/fakes/specs.h"

namespace vigie {
namespace {

using testing::FakeDispatcher;
using testing::FakeProcess;
using testing::FakeSpawner;

using testing::NullObserver;

using testing::configOf;

WorkloadSpec workload(const std::string& name, const std::string& arg = "v1") {
  return testing::testWorkload(name, arg);
}

struct Fixture {
  Fixture()
      : spawner(dispatcher),
        supervisor(dispatcher, spawner, observer, [] { return 0.0; }, {"PATH=/bin"}) {}
  FakeProcess* processOf(const std::string& name) {
    Unit* unit = supervisor.find(name);
    REQUIRE(unit != nullptr);
    REQUIRE(unit->currentInstance() != nullptr);
    return static_cast<FakeProcess*>(unit->currentInstance()->process.get());
  }

  FakeDispatcher dispatcher;
  FakeSpawner spawner;
  NullObserver observer;
  Supervisor supervisor;
};

TEST_CASE("reload: unchanged units keep their process, policy changes apply in place") {
  Fixture f;
  f.supervisor.load(configOf({workload("a"), workload("b")}));
  f.supervisor.startAll();
  FakeProcess* a = f.processOf("a");
  FakeProcess* b = f.processOf("b");

  WorkloadSpec b2 = workload("b");
  b2.restart.backoff.initial = 5s;
  b2.stop.timeout = 1s;
  const auto summary = f.supervisor.reload(configOf({workload("a"), b2}));
  CHECK(summary.unchanged == std::vector<std::string>{"a"});
  CHECK(summary.updated == std::vector<std::string>{"b"});
  CHECK(summary.describe() == "1 updated in place, 1 unchanged");
  CHECK(f.processOf("a") == a);
  CHECK(f.processOf("b") == b);
  CHECK(a->group_signals.empty());
  CHECK(b->group_signals.empty());
  CHECK(f.spawner.spawn_calls == 2);
  // The new policy is the one in force: second restart waits the new initial delay.
  f.spawner.exitProcess(b, ExitStatus{});
  f.spawner.exitLatestWithCode(1);
  CHECK(*f.supervisor.find("b")->nextStartAt() - f.dispatcher.monotonicNow() == 5s);
}

TEST_CASE("reload: a changed process definition restarts that unit only, with the new spec") {
  Fixture f;
  f.supervisor.load(configOf({workload("a"), workload("b")}));
  f.supervisor.startAll();
  FakeProcess* a = f.processOf("a");
  FakeProcess* b = f.processOf("b");

  const auto summary = f.supervisor.reload(configOf({workload("a"), workload("b", "v2")}));
  CHECK(summary.restarted == std::vector<std::string>{"b"});
  CHECK(b->group_signals == std::vector<int>{SIGTERM});
  CHECK(f.supervisor.find("b")->state() == UnitState::kStopping);
  f.spawner.exitProcess(b, ExitStatus{ExitStatus::Kind::kKilled, 0, SIGTERM});
  CHECK(f.supervisor.find("b")->state() == UnitState::kRunning);
  CHECK(f.spawner.last_spec->argv == std::vector<std::string>{"/usr/bin/app", "v2"});
  CHECK(f.processOf("a") == a);
  CHECK(a->group_signals.empty());
}

TEST_CASE("reload: env, cwd, user and output destinations count as the process definition") {
  WorkloadSpec base = workload("w");
  WorkloadSpec env = base;
  env.env = {{"A", "1"}};
  WorkloadSpec cwd = base;
  cwd.cwd = "/tmp";
  WorkloadSpec user = base;
  user.user = "nobody";
  WorkloadSpec file = base;
  file.output.file.max_files = 9;
  WorkloadSpec journal = base;
  journal.output.journal = true;
  WorkloadSpec policy = base;
  policy.restart.policy = RestartPolicyKind::kNever;
  WorkloadSpec tail = base;
  tail.output.tail = 1024;
  for (const WorkloadSpec* changed : {&env, &cwd, &user, &file, &journal}) {
    CHECK(processDefinitionDiffers(base, *changed));
  }
  CHECK_FALSE(processDefinitionDiffers(base, policy));
  CHECK_FALSE(processDefinitionDiffers(base, tail));
}

TEST_CASE("reload: removed units stop and go, new units start") {
  Fixture f;
  f.supervisor.load(configOf({workload("old"), workload("keep")}));
  f.supervisor.startAll();
  FakeProcess* old_process = f.processOf("old");
  const auto summary = f.supervisor.reload(configOf({workload("keep"), workload("new")}));
  CHECK(summary.added == std::vector<std::string>{"new"});
  CHECK(summary.removed == std::vector<std::string>{"old"});
  CHECK(f.supervisor.find("old") == nullptr);
  CHECK(f.supervisor.find("new")->state() == UnitState::kRunning);
  CHECK(old_process->group_signals == std::vector<int>{SIGTERM});
  CHECK(f.supervisor.retiringCount() == 1);
  f.spawner.exitProcess(old_process, ExitStatus{ExitStatus::Kind::kKilled, 0, SIGTERM});
  f.dispatcher.runPosted();
  CHECK(f.supervisor.retiringCount() == 0);
  CHECK(f.spawner.spawn_calls == 3);  // old, keep, new: nothing restarted
}

TEST_CASE("reload: a unit an operator stopped stays stopped, changed or not") {
  Fixture f;
  f.supervisor.load(configOf({workload("a"), workload("b")}));
  f.supervisor.startAll();
  f.supervisor.find("a")->stop();
  f.supervisor.find("b")->stop();
  f.spawner.exitProcess(f.spawner.spawned[0], ExitStatus{});
  f.spawner.exitProcess(f.spawner.spawned[1], ExitStatus{});
  f.supervisor.reload(configOf({workload("a"), workload("b", "v2")}));
  CHECK(f.supervisor.find("a")->state() == UnitState::kStopped);
  CHECK(f.supervisor.find("b")->state() == UnitState::kStopped);
  CHECK(f.supervisor.find("b")->spec().exec[1] == "v2");
  CHECK(f.spawner.spawn_calls == 2);
  f.supervisor.find("b")->start();
  CHECK(f.spawner.last_spec->argv[1] == "v2");
}

TEST_CASE("reload: a backing-off unit with a new definition starts at once with it") {
  Fixture f;
  f.supervisor.load(configOf({workload("a")}));
  f.supervisor.startAll();
  f.spawner.exitLatestWithCode(1);
  f.spawner.exitLatestWithCode(1);
  REQUIRE(f.supervisor.find("a")->state() == UnitState::kBackingOff);
  f.supervisor.reload(configOf({workload("a", "fixed")}));
  CHECK(f.supervisor.find("a")->state() == UnitState::kRunning);
  CHECK(f.spawner.last_spec->argv[1] == "fixed");
  CHECK(f.supervisor.find("a")->restartCount() == 0);
}

TEST_CASE("stopAll waits for units a reload removed") {
  Fixture f;
  f.supervisor.load(configOf({workload("old")}));
  f.supervisor.startAll();
  FakeProcess* old_process = f.processOf("old");
  f.supervisor.reload(configOf({}));
  int done = 0;
  f.supervisor.stopAll([&] { ++done; });
  CHECK(done == 0);
  f.spawner.exitProcess(old_process, ExitStatus{});
  f.dispatcher.runPosted();
  CHECK(done == 1);
}

}  // namespace
}  // namespace vigie
