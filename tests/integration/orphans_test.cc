// vigied is a child subreaper and reaps orphans (agent/os/orphans.h), while its own workloads are
// reaped through their pidfds. The two must never meet: reaping orphans must take an orphan's
// exit and never a tracked workload's. (After execve the kernel resets a child's exit signal to
// SIGCHLD, so wait flags alone cannot tell the two apart.)
//
// In-process, with the loop deliberately not running: the tracked workloads stay unreaped
// zombies, which is the moment a SIGCHLD from any exit makes vigied reap orphans.
#include <unistd.h>

#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "agent/os/orphans.h"
#include "tests/integration/harness.h"

namespace vigie::testing {
namespace {

bool isZombie(pid_t pid) {
  return processState(pid) == std::optional<char>('Z');
}

TEST_CASE("orphan reaping takes an orphan's exit and never a tracked workload's") {
  TempDir dir;
  const std::string orphan_file = dir.file("orphan.pids");
  InProcessAgent agent;
  WorkloadSpec quick = helperWorkload("quick", {"exit", "5"});
  quick.restart.policy = RestartPolicyKind::kNever;
  WorkloadSpec maker = helperWorkload("maker", {"orphan", orphan_file});
  maker.restart.policy = RestartPolicyKind::kNever;
  agent.load({quick, maker});
  agent.startAll();
  Unit& quick_unit = agent.unit("quick");
  Unit& maker_unit = agent.unit("maker");
  REQUIRE(quick_unit.currentInstance() != nullptr);
  REQUIRE(maker_unit.currentInstance() != nullptr);
  const pid_t quick_pid = quick_unit.currentInstance()->pid;
  const pid_t maker_pid = maker_unit.currentInstance()->pid;

  // Both tracked workloads end; the maker leaves behind a child that left its session, which
  // the kernel re-parents to us (the test process is a subreaper, like vigied).
  REQUIRE(pollUntil([&] {
    return isZombie(quick_pid) && isZombie(maker_pid) && readPids(orphan_file).size() == 1;
  }));
  const pid_t orphan = readPids(orphan_file).front();
  CHECK(parentOf(orphan) == std::optional<pid_t>(::getpid()));
  writeFile(orphan_file + ".go", "");
  REQUIRE(pollUntil([&] { return isZombie(orphan); }));

  LinuxProcessSpawner& spawner = agent.spawner();
  CHECK(spawner.isTracked(quick_pid));
  CHECK(spawner.isTracked(maker_pid));
  CHECK_FALSE(spawner.isTracked(orphan));
  const int reaped = reapOrphans([&](pid_t pid) { return spawner.isTracked(pid); });
  CHECK(reaped == 1);
  CHECK_FALSE(processState(orphan).has_value());  // reaped: gone for good.
  CHECK(isZombie(quick_pid));                     // untouched: still waiting for its pidfd.
  CHECK(isZombie(maker_pid));

  // Their pidfds then report the real exits, and both units move on.
  const RecordingObserver& seen = agent.observer();
  REQUIRE_MESSAGE(agent.runUntil([&] {
    return quick_unit.state() == UnitState::kExited && maker_unit.state() == UnitState::kExited;
  }),
                  seen.stateTrail("quick") << "| " << seen.stateTrail("maker"));
  const InstanceRecord* quick_end = lastEndedInstance(quick_unit);
  const InstanceRecord* maker_end = lastEndedInstance(maker_unit);
  REQUIRE(quick_end != nullptr);
  REQUIRE(maker_end != nullptr);
  REQUIRE(quick_end->exit.has_value());
  REQUIRE(maker_end->exit.has_value());
  CHECK(quick_end->exit->describe() == "exit code 5");
  CHECK(maker_end->exit->describe() == "exit code 0");
  CHECK_FALSE(spawner.isTracked(quick_pid));
  CHECK_FALSE(spawner.isTracked(maker_pid));
}

}  // namespace
}  // namespace vigie::testing
