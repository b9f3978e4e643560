// In-process: a real loop, a real spawner and a Supervisor restarting real processes.
// Acceptance points 1 (crashes restart), 2 (policies), 7 (first restart immediate) and 11 (the
// peer-benchmark adapter's config).
#include <signal.h>

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace vigie::testing {
namespace {

using Kind = ObservedEvent::Kind;

const InstanceRecord* findInstance(const Unit& unit, uint64_t id) {
  for (const auto& instance : unit.instances()) {
    if (instance->id == id) {
      return instance.get();
    }
  }
  return nullptr;
}

// Starts `spec` alone, waits for its second instance, and returns the first one's end as the
// observer saw it, after checking what every restart must satisfy: a new instance, a new pid,
// and the old record keeping its ExitStatus.
ExitStatus firstExitBeforeRestart(InProcessAgent& agent, const std::function<void()>& provoke) {
  const RecordingObserver& seen = agent.observer();
  Unit& unit = agent.unit("crasher");
  provoke();
  REQUIRE_MESSAGE(agent.runUntil([&] { return seen.count("crasher", Kind::kStarted) >= 2; }),
                  seen.stateTrail("crasher"));

  const std::vector<ObservedEvent> starts = seen.eventsOf("crasher", Kind::kStarted);
  const std::vector<ObservedEvent> ends = seen.eventsOf("crasher", Kind::kEnded);
  REQUIRE(ends.size() >= 1);
  CHECK(starts[0].instance_id == 1);
  CHECK(starts[1].instance_id == 2);
  CHECK(starts[0].pid > 0);
  CHECK(starts[1].pid > 0);
  CHECK(starts[1].pid != starts[0].pid);
  CHECK(ends[0].instance_id == 1);
  CHECK(ends[0].pid == starts[0].pid);
  CHECK_FALSE(ends[0].stopping);
  CHECK(ends[0].decision.action == RestartDecision::Action::kRestartNow);
  CHECK(unit.totalRestarts() >= 1);

  // The ended instance keeps its record, its pid and its exit status.
  const InstanceRecord* old = findInstance(unit, 1);
  REQUIRE(old != nullptr);
  CHECK(old->pid == starts[0].pid);
  CHECK_FALSE(old->running());
  CHECK(old->spawn_error.empty());
  REQUIRE(old->exit.has_value());
  REQUIRE(ends[0].exit.has_value());
  CHECK(old->exit->kind == ends[0].exit->kind);
  CHECK(old->exit->code == ends[0].exit->code);
  CHECK(old->exit->signal == ends[0].exit->signal);
  return *old->exit;
}

TEST_CASE("crash restart: exit code 1 is restarted with a new pid") {
  InProcessAgent agent;
  agent.load({helperWorkload("crasher", {"exit", "1"})});
  const ExitStatus status = firstExitBeforeRestart(agent, [&] { agent.startAll(); });
  CHECK(status.kind == ExitStatus::Kind::kExited);
  CHECK(status.code == 1);
  CHECK(status.describe() == "exit code 1");
}

TEST_CASE("crash restart: SIGSEGV is restarted with a new pid") {
  InProcessAgent agent;
  agent.load({helperWorkload("crasher", {"segv"})});
  const ExitStatus status = firstExitBeforeRestart(agent, [&] { agent.startAll(); });
  CHECK(status.bySignal());
  CHECK(status.signal == SIGSEGV);
  CHECK(status.code == 0);
}

TEST_CASE("crash restart: SIGKILL sent from outside is restarted with a new pid") {
  TempDir dir;
  const std::string pidfile = dir.file("crasher.pids");
  InProcessAgent agent;
  agent.load({helperWorkload("crasher", {"pidfile", pidfile})});
  agent.startAll();
  Unit& unit = agent.unit("crasher");
  REQUIRE(agent.runUntil([&] { return readPids(pidfile).size() == 1; }));
  REQUIRE(unit.state() == UnitState::kRunning);
  REQUIRE(unit.currentInstance() != nullptr);
  const pid_t victim = unit.currentInstance()->pid;
  CHECK(readPids(pidfile).front() == victim);

  const ExitStatus status =
      firstExitBeforeRestart(agent, [&] { REQUIRE(::kill(victim, SIGKILL) == 0); });
  CHECK(status.kind == ExitStatus::Kind::kKilled);
  CHECK(status.signal == SIGKILL);
  CHECK(status.describe() == "signal SIGKILL");

  // The new instance really runs the program again.
  REQUIRE(agent.runUntil([&] { return readPids(pidfile).size() == 2; }));
  const std::vector<pid_t> pids = readPids(pidfile);
  CHECK(pids[1] != victim);
  REQUIRE(unit.currentInstance() != nullptr);
  CHECK(unit.currentInstance()->pid == pids[1]);
  CHECK(unit.state() == UnitState::kRunning);
}

TEST_CASE("policy on-failure: exit 0 is not restarted but a failing exit is") {
  InProcessAgent agent;
  WorkloadSpec success = helperWorkload("success", {"exit", "0"});
  success.restart.policy = RestartPolicyKind::kOnFailure;
  WorkloadSpec failure = helperWorkload("failure", {"exit", "3"});
  failure.restart.policy = RestartPolicyKind::kOnFailure;
  // A code listed in success_exit_codes counts as a success.
  WorkloadSpec listed = helperWorkload("listed", {"exit", "3"});
  listed.restart.policy = RestartPolicyKind::kOnFailure;
  listed.success_exit_codes = {0, 3};
  agent.load({success, failure, listed});
  agent.startAll();

  const RecordingObserver& seen = agent.observer();
  Unit& ok_unit = agent.unit("success");
  Unit& listed_unit = agent.unit("listed");
  REQUIRE_MESSAGE(agent.runUntil([&] {
    return ok_unit.state() == UnitState::kExited && listed_unit.state() == UnitState::kExited &&
           seen.count("failure", Kind::kStarted) >= 2;
  }),
                  seen.stateTrail("success")
                      << "| " << seen.stateTrail("failure") << "| " << seen.stateTrail("listed"));

  for (Unit* unit : {&ok_unit, &listed_unit}) {
    CAPTURE(unit->name());
    CHECK(unit->instances().size() == 1);
    CHECK(unit->totalRestarts() == 0);
    CHECK(seen.count(unit->name(), Kind::kStarted) == 1);
    CHECK_FALSE(unit->nextStartAt().has_value());
    const InstanceRecord* only = lastEndedInstance(*unit);
    REQUIRE(only != nullptr);
    REQUIRE(only->exit.has_value());
    CHECK(only->exit->kind == ExitStatus::Kind::kExited);
    const std::vector<ObservedEvent> ends = seen.eventsOf(unit->name(), Kind::kEnded);
    REQUIRE(ends.size() == 1);
    CHECK(ends[0].decision.action == RestartDecision::Action::kDone);
  }
  CHECK(lastEndedInstance(ok_unit)->exit->code == 0);
  CHECK(lastEndedInstance(listed_unit)->exit->code == 3);

  const std::vector<ObservedEvent> failure_ends = seen.eventsOf("failure", Kind::kEnded);
  REQUIRE(!failure_ends.empty());
  REQUIRE(failure_ends[0].exit.has_value());
  CHECK(failure_ends[0].exit->code == 3);
  CHECK(failure_ends[0].decision.action == RestartDecision::Action::kRestartNow);
  CHECK(agent.unit("failure").totalRestarts() >= 1);
}

TEST_CASE("policy never: neither a failure nor a success nor a kill is restarted") {
  TempDir dir;
  const std::string pidfile = dir.file("killed.pids");
  InProcessAgent agent;
  WorkloadSpec failing = helperWorkload("failing", {"exit", "1"});
  failing.restart.policy = RestartPolicyKind::kNever;
  WorkloadSpec crashing = helperWorkload("crashing", {"segv"});
  crashing.restart.policy = RestartPolicyKind::kNever;
  WorkloadSpec succeeding = helperWorkload("succeeding", {"exit", "0"});
  succeeding.restart.policy = RestartPolicyKind::kNever;
  WorkloadSpec killed = helperWorkload("killed", {"pidfile", pidfile});
  killed.restart.policy = RestartPolicyKind::kNever;
  agent.load({failing, crashing, succeeding, killed});
  agent.startAll();

  Unit& killed_unit = agent.unit("killed");
  REQUIRE(agent.runUntil([&] { return readPids(pidfile).size() == 1; }));
  REQUIRE(killed_unit.currentInstance() != nullptr);
  REQUIRE(::kill(killed_unit.currentInstance()->pid, SIGKILL) == 0);

  const std::vector<std::string> names{"failing", "crashing", "succeeding", "killed"};
  const RecordingObserver& seen = agent.observer();
  REQUIRE_MESSAGE(agent.runUntil([&] {
    for (const auto& name : names) {
      if (agent.unit(name).state() != UnitState::kExited) {
        return false;
      }
    }
    return true;
  }),
                  seen.stateTrail("failing")
                      << "| " << seen.stateTrail("crashing") << "| "
                      << seen.stateTrail("succeeding") << "| " << seen.stateTrail("killed"));

  for (const auto& name : names) {
    CAPTURE(name);
    Unit& unit = agent.unit(name);
    CHECK(unit.instances().size() == 1);
    CHECK(unit.totalRestarts() == 0);
    CHECK(seen.count(name, Kind::kStarted) == 1);
    CHECK_FALSE(unit.nextStartAt().has_value());
    const std::vector<ObservedEvent> ends = seen.eventsOf(name, Kind::kEnded);
    REQUIRE(ends.size() == 1);
    CHECK(ends[0].decision.action == RestartDecision::Action::kDone);
  }
  CHECK(lastEndedInstance(agent.unit("failing"))->exit->code == 1);
  CHECK(lastEndedInstance(agent.unit("crashing"))->exit->signal == SIGSEGV);
  CHECK(lastEndedInstance(agent.unit("succeeding"))->exit->code == 0);
  CHECK(lastEndedInstance(killed_unit)->exit->signal == SIGKILL);
  CHECK(readPids(pidfile).size() == 1);
}

TEST_CASE("backoff: the first restart is immediate and the second one backs off") {
  InProcessAgent agent;
  WorkloadSpec spec = helperWorkload("slow", {"sleep-exit", "200", "1"});
  const BackoffSpec defaults;  // the defaults: initial 100ms, max 30s.
  CHECK(spec.restart.backoff.initial == defaults.initial);
  agent.load({spec});
  agent.startAll();

  const RecordingObserver& seen = agent.observer();
  Unit& unit = agent.unit("slow");
  REQUIRE_MESSAGE(agent.runUntil([&] { return seen.enteredState("slow", UnitState::kBackingOff); }),
                  seen.stateTrail("slow"));
  CHECK(unit.state() == UnitState::kBackingOff);
  CHECK(unit.nextStartAt().has_value());

  // Exactly: start, crash, restart with no timer in between, crash, back off.
  std::vector<UnitState> states;
  for (const ObservedEvent& event : seen.eventsOf("slow", Kind::kStateChanged)) {
    states.push_back(event.to);
  }
  const std::vector<UnitState> expected{UnitState::kStarting, UnitState::kRunning,
                                        UnitState::kStarting, UnitState::kRunning,
                                        UnitState::kBackingOff};
  CHECK_MESSAGE(states == expected, seen.stateTrail("slow"));

  const std::vector<ObservedEvent> ends = seen.eventsOf("slow", Kind::kEnded);
  REQUIRE(ends.size() == 2);
  CHECK(ends[0].decision.action == RestartDecision::Action::kRestartNow);
  CHECK(ends[0].decision.delay == Duration::zero());
  CHECK(ends[1].decision.action == RestartDecision::Action::kRestartLater);
  CHECK(ends[1].decision.delay == backoffDelay(defaults, 2, 0.5));
  CHECK(ends[1].decision.delay > Duration::zero());
  REQUIRE(ends[0].exit.has_value());
  CHECK(ends[0].exit->code == 1);

  // The backoff timer then starts a third instance.
  REQUIRE(agent.runUntil([&] { return seen.count("slow", Kind::kStarted) >= 3; }));
}

TEST_CASE("peer-benchmark adapter config: 20 crashes give 20 immediate restarts") {
  // The YAML /work/shared/peers/examples/agent-vigie.sh writes for one service.
  const std::string yaml =
      "workloads:\n"
      "  - name: s0\n"
      "    exec: [\"" +
      helperPath() +
      "\", \"segv\"]\n"
      "    restart:\n"
      "      policy: always\n"
      "      backoff: {initial: 0s, max: 0s}\n"
      "      limit: {burst: 0}\n";
  InProcessAgent agent;
  agent.loadYaml(yaml);
  agent.startAll();

  const RecordingObserver& seen = agent.observer();
  REQUIRE_MESSAGE(agent.runUntil([&] { return seen.count("s0", Kind::kStarted) >= 21; }),
                  seen.stateTrail("s0"));
  const std::vector<ObservedEvent> ends = seen.eventsOf("s0", Kind::kEnded);
  REQUIRE(ends.size() >= 20);
  for (size_t i = 0; i < 20; ++i) {
    CAPTURE(i);
    REQUIRE(ends[i].exit.has_value());
    CHECK(ends[i].exit->signal == SIGSEGV);
    CHECK(ends[i].decision.action == RestartDecision::Action::kRestartNow);
  }
  CHECK_FALSE(seen.enteredState("s0", UnitState::kBackingOff));
  CHECK_FALSE(seen.enteredState("s0", UnitState::kFailed));
  CHECK(agent.unit("s0").totalRestarts() >= 20);
  CHECK(agent.unit("s0").failedStarts() == 0);
}

}  // namespace
}  // namespace vigie::testing
