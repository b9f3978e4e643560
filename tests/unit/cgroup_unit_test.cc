// Units and their cgroups, against a fake CgroupManager: when a unit's cgroup is made, used,
// killed and removed, and how OOM evidence labels an instance. No cgroupfs, no process.
#include <doctest/doctest.h>

#include <csignal>
#include <string>
#include <vector>

#include "agent/supervisor/supervisor.h"
#include "tests/fakes/fake_cgroups.h"
#include "tests/fakes/fake_dispatcher.h"
#include "tests/fakes/fake_spawner.h"
#include "tests/fakes/null_observer.h"
#include "tests/fakes/specs.h"

namespace vigie {
namespace {

using testing::FakeCgroupManager;
using testing::FakeDispatcher;
using testing::FakeSpawner;
using testing::FakeUnitCgroup;
using testing::testWorkload;

struct Fixture {
  Fixture()
      : spawner(dispatcher),
        supervisor(
            dispatcher, spawner, observer, [] { return 0.0; }, {"PATH=/usr/bin:/bin"}, nullptr,
            &cgroups) {}

  Unit& add(WorkloadSpec spec) {
    supervisor.load(testing::configOf({std::move(spec)}));
    return *supervisor.units().back();
  }
  FakeUnitCgroup& cgroupOf(const std::string& name) {
    REQUIRE(cgroups.units.count(name) == 1);
    return *cgroups.units[name];
  }

  FakeDispatcher dispatcher;
  FakeSpawner spawner;
  testing::NullObserver observer;
  FakeCgroupManager cgroups;  // before the supervisor: it outlives the units' cgroups.
  Supervisor supervisor;
};

ResourcesSpec memoryLimit(uint64_t bytes) {
  ResourcesSpec resources;
  resources.memory_max = bytes;
  return resources;
}

ExitStatus killedBy(int sig) {
  ExitStatus status;
  status.kind = ExitStatus::Kind::kKilled;
  status.signal = sig;
  return status;
}

TEST_CASE("cgroup unit: one cgroup per unit, its limits applied, kept across restarts") {
  Fixture f;
  WorkloadSpec spec = testWorkload("web");
  spec.resources = memoryLimit(64 << 20);
  Unit& unit = f.add(spec);
  FakeUnitCgroup& cgroup = f.cgroupOf("web");
  REQUIRE(cgroup.applied.size() == 1);
  CHECK(cgroup.applied[0].memory_max == std::optional<uint64_t>(64 << 20));

  unit.start();
  REQUIRE(f.spawner.last_spec.has_value());
  CHECK(f.spawner.last_spec->cgroup.cgroup2_dir_fd == 1001);  // the spawner places the child.
  f.spawner.exitLatestWithCode(1);
  f.spawner.exitLatestWithCode(1);
  f.dispatcher.advance(1s);
  CHECK(f.spawner.spawn_calls == 3);
  CHECK(f.cgroups.creates == 1);  // the same cgroup for every instance.
  CHECK(cgroup.begins == 3);
  CHECK(cgroup.ends == 2);
  CHECK(cgroup.kills == 2);  // what an instance left behind goes when it ends.
  CHECK(f.spawner.last_spec->cgroup.cgroup2_dir_fd == 1001);
  CHECK(f.cgroups.removed.empty());
}

TEST_CASE("cgroup unit: oom-killed only for an OOM kill during that instance") {
  Fixture f;
  WorkloadSpec spec = testWorkload("hog");
  spec.restart.policy = RestartPolicyKind::kOnFailure;
  Unit& unit = f.add(spec);
  FakeUnitCgroup& cgroup = f.cgroupOf("hog");
  unit.start();

  cgroup.next_stats.oom_kills = 1;
  cgroup.next_stats.memory_peak_bytes = 32 << 20;
  f.spawner.killLatest(SIGKILL);
  const InstanceRecord& first = *unit.instances()[0];
  CHECK(first.oom_killed);
  REQUIRE(first.cgroup_stats.has_value());
  CHECK(first.cgroup_stats->memory_peak_bytes == std::optional<uint64_t>(32 << 20));

  // The cgroup's lifetime count is still 1, but this instance saw no OOM kill: its delta is 0.
  cgroup.next_stats.oom_kills = 0;
  f.spawner.exitLatestWithCode(0);
  const InstanceRecord& second = *unit.instances()[1];
  CHECK_FALSE(second.oom_killed);
  CHECK(second.cgroup_stats->oom_kills == std::optional<uint64_t>(0));
  CHECK(unit.state() == UnitState::kExited);

  // A SIGKILL from someone else, with no OOM kill, is no OOM either; nor an exit code after one
  // of the workload's children was OOM-killed.
  unit.start();
  f.spawner.killLatest(SIGKILL);
  CHECK_FALSE(unit.instances().back()->oom_killed);
  cgroup.next_stats.oom_kills = 1;
  f.spawner.exitLatestWithCode(1);
  CHECK_FALSE(unit.instances().back()->oom_killed);
  CHECK(unit.instances().back()->cgroup_stats->oom_kills == std::optional<uint64_t>(1));
}

TEST_CASE("cgroup unit: a stop ends once the cgroup is empty") {
  Fixture f;
  Unit& unit = f.add(testWorkload("daemon"));
  FakeUnitCgroup& cgroup = f.cgroupOf("daemon");
  unit.start();
  unit.stop();
  CHECK(unit.state() == UnitState::kStopping);
  cgroup.populated = true;  // a grandchild that left the process group is still there.
  f.spawner.killLatest(SIGTERM);
  CHECK(cgroup.kills == 1);
  CHECK(unit.state() == UnitState::kStopping);
  CHECK_FALSE(unit.settled());
  cgroup.empty();
  CHECK(unit.state() == UnitState::kStopped);
  CHECK(f.spawner.spawn_calls == 1);
}

TEST_CASE("cgroup unit: a stop gives up on a cgroup that never empties after stop.timeout") {
  Fixture f;
  WorkloadSpec spec = testWorkload("stuck");
  spec.stop.timeout = 5s;
  Unit& unit = f.add(spec);
  FakeUnitCgroup& cgroup = f.cgroupOf("stuck");
  unit.start();
  unit.stop();
  f.dispatcher.advance(5s);  // SIGKILL to the group and the cgroup.
  CHECK(cgroup.kills == 1);
  cgroup.populated = true;
  f.spawner.killLatest(SIGKILL);
  CHECK(unit.state() == UnitState::kStopping);
  f.dispatcher.advance(5s);
  CHECK(unit.state() == UnitState::kStopped);
}

TEST_CASE("cgroup unit: without cgroup.kill, the next start waits for the leftovers to go") {
  Fixture f;
  Unit& unit = f.add(testWorkload("v1"));
  FakeUnitCgroup& cgroup = f.cgroupOf("v1");
  cgroup.starts_while_killing = false;  // a v1 kill loop would take the new instance too.
  unit.start();
  cgroup.populated = true;
  f.spawner.exitLatestWithCode(1);
  CHECK(f.spawner.spawn_calls == 1);
  CHECK(unit.state() == UnitState::kStarting);
  cgroup.empty();
  CHECK(f.spawner.spawn_calls == 2);
  CHECK(unit.state() == UnitState::kRunning);

  // Stopped while its start waits: it stops once the cgroup is empty, without starting.
  cgroup.populated = true;
  f.spawner.exitLatestWithCode(1);
  CHECK(unit.state() == UnitState::kBackingOff);  // the second restart in a row waits 100ms.
  f.dispatcher.advance(100ms);
  CHECK(unit.state() == UnitState::kStarting);
  CHECK(f.spawner.spawn_calls == 2);
  unit.stop();
  CHECK(unit.state() == UnitState::kStopping);
  cgroup.empty();
  CHECK(unit.state() == UnitState::kStopped);
  CHECK(f.spawner.spawn_calls == 2);
}

TEST_CASE("cgroup unit: cgroup.kill lets the next instance start at once") {
  Fixture f;
  Unit& unit = f.add(testWorkload("v2"));
  FakeUnitCgroup& cgroup = f.cgroupOf("v2");
  unit.start();
  cgroup.populated = true;
  f.spawner.exitLatestWithCode(1);
  CHECK(f.spawner.spawn_calls == 2);
  CHECK(unit.state() == UnitState::kRunning);
}

TEST_CASE("cgroup unit: limits the host cannot enforce keep that unit from starting") {
  Fixture f;
  Unit& other = f.add(testWorkload("other"));
  f.cgroups.create_error = "cannot enforce pids_max (pids controller) on this host's cgroups";
  WorkloadSpec spec = testWorkload("limited");
  spec.resources.pids_max = 10;
  Unit& unit = f.add(spec);
  unit.start();
  other.start();
  CHECK(f.spawner.spawn_calls == 1);  // only "other" ran.
  CHECK(unit.failedStarts() >= 1);
  REQUIRE(!unit.instances().empty());
  CHECK(unit.instances().back()->spawn_error ==
        "cgroup: cannot enforce pids_max (pids controller) on this host's cgroups");
  CHECK(other.state() == UnitState::kRunning);
}

TEST_CASE("cgroup unit: a resources change on reload applies in place, without a restart") {
  Fixture f;
  WorkloadSpec spec = testWorkload("web");
  spec.resources = memoryLimit(64 << 20);
  f.add(spec);
  f.supervisor.startAll();
  FakeUnitCgroup& cgroup = f.cgroupOf("web");

  spec.resources.memory_max = 128 << 20;
  spec.resources.pids_max = 100;
  const Supervisor::ReloadSummary summary = f.supervisor.reload(testing::configOf({spec}));
  CHECK(summary.updated == std::vector<std::string>{"web"});
  CHECK(f.spawner.spawn_calls == 1);
  REQUIRE(cgroup.applied.size() == 2);
  CHECK(cgroup.applied[1] == spec.resources);
  CHECK(f.supervisor.units().front()->spec().resources == spec.resources);

  // A new definition and new limits: one restart, the same cgroup, the new limits.
  spec.exec.push_back("--verbose");
  spec.resources.pids_max = 50;
  f.supervisor.reload(testing::configOf({spec}));
  f.spawner.killLatest(SIGTERM);
  CHECK(f.spawner.spawn_calls == 2);
  CHECK(f.cgroups.creates == 1);
  CHECK(cgroup.applied.back().pids_max == std::optional<uint64_t>(50));
}

TEST_CASE("cgroup unit: a unit's cgroup goes with the unit (reload, and at the end)") {
  Fixture f;
  f.add(testWorkload("old"));
  f.add(testWorkload("kept"));
  f.supervisor.startAll();
  f.supervisor.reload(testing::configOf({testWorkload("kept")}));
  CHECK(f.cgroups.removed.empty());  // still stopping.
  f.spawner.exitProcess(f.spawner.spawned[0], killedBy(SIGTERM));
  f.dispatcher.runPosted();
  CHECK(f.cgroups.removed == std::vector<std::string>{"old"});
}

}  // namespace
}  // namespace vigie
