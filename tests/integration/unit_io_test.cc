// In-process: stopping (3), output tails (4), flood (5), missing binaries (6) and what a child
// inherits (10), with real processes on a real loop.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/text_checks.h"

namespace vigie::testing {
namespace {

using Kind = ObservedEvent::Kind;

bool hasPrefix(const std::vector<std::string>& lines, const std::string& prefix) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& line) { return line.rfind(prefix, 0) == 0; });
}

// An fd of the test process without CLOEXEC, closed on destruction: a careless spawner would
// pass it on to every child.
class LeakyFd {
 public:
  explicit LeakyFd(int target) : fd_(target) {
    const int opened = ::open("/dev/null", O_RDONLY);  // deliberately no O_CLOEXEC.
    REQUIRE(opened >= 0);
    REQUIRE(::dup2(opened, target) == target);
    ::close(opened);
    REQUIRE(::fcntl(target, F_GETFD) == 0);
  }
  ~LeakyFd() { ::close(fd_); }
  LeakyFd(const LeakyFd&) = delete;
  LeakyFd& operator=(const LeakyFd&) = delete;

 private:
  int fd_;
};

TEST_CASE("stop: a child that ignores SIGTERM is SIGKILLed after stop.timeout") {
  TempDir dir;
  const std::string ready = dir.file("stubborn.ready");
  InProcessAgent agent;
  WorkloadSpec spec = helperWorkload("stubborn", {"ignore-term", ready});
  spec.stop.timeout = 300ms;
  agent.load({spec});
  agent.startAll();

  Unit& unit = agent.unit("stubborn");
  // Only once it wrote the file does it ignore SIGTERM.
  REQUIRE(agent.runUntil([&] { return readPids(ready).size() == 1; }));
  REQUIRE(unit.currentInstance() != nullptr);
  const pid_t pid = unit.currentInstance()->pid;
  CHECK(readPids(ready).front() == pid);

  const MonoTime stop_sent = agent.loop().monotonicNow();
  unit.stop();
  CHECK(unit.state() == UnitState::kStopping);
  const RecordingObserver& seen = agent.observer();
  REQUIRE_MESSAGE(agent.runUntil([&] { return unit.state() == UnitState::kStopped; }),
                  seen.stateTrail("stubborn"));

  const InstanceRecord* last = lastEndedInstance(unit);
  REQUIRE(last != nullptr);
  REQUIRE(last->exit.has_value());
  CHECK(last->exit->kind == ExitStatus::Kind::kKilled);
  CHECK(last->exit->signal == SIGKILL);
  // SIGTERM was ignored: only the stop timer's SIGKILL can have ended it, never before the timer.
  CHECK(last->exit->at_mono - stop_sent >= spec.stop.timeout);
  CHECK(unit.instances().size() == 1);
  CHECK_FALSE(processAlive(pid));
  const std::vector<ObservedEvent> ends = seen.eventsOf("stubborn", Kind::kEnded);
  REQUIRE(ends.size() == 1);
  CHECK(ends[0].stopping);
  CHECK(seen.count("stubborn", Kind::kStarted) == 1);
}

TEST_CASE("output: the tails of a dead instance hold its last lines") {
  InProcessAgent agent;
  WorkloadSpec whole = helperWorkload("whole", {"print", "hello", "3"});
  whole.restart.policy = RestartPolicyKind::kNever;
  WorkloadSpec small = helperWorkload("small", {"print", "hello", "3"});
  small.restart.policy = RestartPolicyKind::kNever;
  small.output.tail = 10;
  agent.load({whole, small});
  agent.startAll();

  const std::vector<std::string> names{"whole", "small"};
  REQUIRE(agent.runUntil([&] {
    for (const auto& name : names) {
      const InstanceRecord* ended = lastEndedInstance(agent.unit(name));
      if (agent.unit(name).state() != UnitState::kExited || ended == nullptr ||
          !outputDrained(*ended)) {
        return false;
      }
    }
    return true;
  }));

  const std::string out = "hello 1\nhello 2\nhello 3\n";
  const std::string err = "err: hello\n";
  const InstanceRecord& full = *lastEndedInstance(agent.unit("whole"));
  REQUIRE(full.exit.has_value());
  CHECK(full.exit->code == 3);
  CHECK(full.stdout_tail.contents() == out);
  CHECK(full.stderr_tail.contents() == err);
  CHECK(full.stdout_tail.lastLines(1) == "hello 3\n");
  CHECK(full.stdout_tail.lastLines(2) == "hello 2\nhello 3\n");
  CHECK(full.stdout_tail.totalBytes() == out.size());

  // A tail smaller than the output keeps exactly the last bytes.
  const InstanceRecord& cut = *lastEndedInstance(agent.unit("small"));
  CHECK(cut.stdout_tail.capacity() == 10);
  CHECK(cut.stdout_tail.contents() == out.substr(out.size() - 10));
  CHECK(cut.stdout_tail.size() == 10);
  CHECK(cut.stdout_tail.totalBytes() == out.size());
  CHECK(cut.stderr_tail.contents() == err.substr(err.size() - 10));
  CHECK(cut.stdout_tail.lastLines(1) == "hello 3\n");
}

TEST_CASE("output: a restarted unit keeps the tail of its ended instance (config tail 1KiB)") {
  const std::string text(600, 'y');
  const std::string yaml =
      "workloads:\n"
      "  - name: chatty\n"
      "    exec: [\"" +
      helperPath() + "\", \"print\", \"" + text +
      "\", \"7\"]\n"
      "    output: {tail: 1KiB}\n";
  InProcessAgent agent;
  agent.loadYaml(yaml);
  agent.startAll();
  Unit& unit = agent.unit("chatty");
  CHECK(unit.spec().output.tail == 1024);

  // An instance that ended and was replaced, with both pipes read to the end.
  const InstanceRecord* ended = nullptr;
  REQUIRE(agent.runUntil([&] {
    ended = nullptr;
    for (const auto& instance : unit.instances()) {
      if (instance->exit.has_value() && outputDrained(*instance) && instance->id < 2) {
        ended = instance.get();
      }
    }
    return ended != nullptr && agent.observer().count("chatty", Kind::kStarted) >= 2;
  }));
  std::string out;
  for (int i = 1; i <= 3; ++i) {
    out += text + " " + std::to_string(i) + "\n";
  }
  REQUIRE(out.size() > 1024);
  CHECK(ended->exit->code == 7);
  CHECK(ended->stdout_tail.size() == 1024);
  CHECK(ended->stdout_tail.totalBytes() == out.size());
  CHECK(ended->stdout_tail.contents() == out.substr(out.size() - 1024));
  CHECK(ended->stdout_tail.lastLines(1) == text + " 3\n");
  CHECK(ended->stderr_tail.contents() == "err: " + text + "\n");
}

TEST_CASE("flood: the ring buffer stays within its capacity and other units are served") {
  TempDir dir;
  const std::string pidfile = dir.file("victim.pids");
  InProcessAgent agent;
  WorkloadSpec flood = helperWorkload("flood", {"flood"});
  flood.output.tail = 64 * 1024;
  WorkloadSpec victim = helperWorkload("victim", {"pidfile", pidfile});
  victim.restart.backoff.max = Duration::zero();  // every restart immediate.
  victim.restart.limit.burst = 0;
  agent.load({flood, victim});
  agent.startAll();

  Unit& flood_unit = agent.unit("flood");
  Unit& victim_unit = agent.unit("victim");
  REQUIRE(flood_unit.currentInstance() != nullptr);
  const InstanceRecord& flooding = *flood_unit.currentInstance();
  size_t largest = 0;
  auto sample = [&] {
    largest = std::max(largest, flooding.stdout_tail.size());
    return true;
  };

  // The victim crash-loops (we kill it) while the flood runs: each kill gets a restart.
  constexpr size_t kKills = 5;
  for (size_t round = 0; round < kKills; ++round) {
    CAPTURE(round);
    REQUIRE(agent.runUntil([&] { return sample() && readPids(pidfile).size() == round + 1; }));
    REQUIRE(victim_unit.currentInstance() != nullptr);
    REQUIRE(::kill(victim_unit.currentInstance()->pid, SIGKILL) == 0);
  }
  REQUIRE(agent.runUntil([&] { return sample() && readPids(pidfile).size() == kKills + 1; }));
  CHECK(victim_unit.state() == UnitState::kRunning);
  CHECK(victim_unit.totalRestarts() == kKills);

  // Then enough flood to wrap the buffer many times.
  constexpr uint64_t kFloodBytes = 16 * 1024 * 1024;
  REQUIRE(
      agent.runUntil([&] { return sample() && flooding.stdout_tail.totalBytes() >= kFloodBytes; }));
  CHECK(largest <= flood.output.tail);
  CHECK(flooding.stdout_tail.size() == flood.output.tail);
  CHECK(flooding.stdout_tail.capacity() == flood.output.tail);
  CHECK(flooding.running());
  CHECK(flood_unit.totalRestarts() == 0);
  // The tail is whole 4 KiB lines of 'x': the last bytes written.
  const std::string tail = flooding.stdout_tail.contents();
  CHECK(tail.back() == '\n');
  CHECK(tail.find_first_not_of("x\n") == std::string::npos);
}

TEST_CASE("missing binary: a clear spawn error and the other units keep running") {
  TempDir dir;
  const std::string pidfile = dir.file("steady.pids");
  InProcessAgent agent;
  WorkloadSpec ghost;
  ghost.name = "ghost";
  ghost.exec = {"vigie-no-such-binary-xyz", "--flag"};
  WorkloadSpec absent;
  absent.name = "absent";
  absent.exec = {dir.file("no-such-dir/vigie-absent")};
  agent.load({ghost, absent, helperWorkload("steady", {"pidfile", pidfile})});
  agent.startAll();

  Unit& ghost_unit = agent.unit("ghost");
  Unit& absent_unit = agent.unit("absent");
  Unit& steady = agent.unit("steady");
  const RecordingObserver& seen = agent.observer();
  REQUIRE(agent.runUntil([&] {
    return ghost_unit.failedStarts() > 0 && absent_unit.failedStarts() > 0 &&
           readPids(pidfile).size() == 1;
  }));

  const InstanceRecord* failed = lastEndedInstance(ghost_unit);
  REQUIRE(failed != nullptr);
  INFO("spawn_error: " << failed->spawn_error);
  CHECK(contains(failed->spawn_error, "vigie-no-such-binary-xyz"));
  CHECK(contains(failed->spawn_error, "not found"));
  CHECK_FALSE(failed->exit.has_value());
  CHECK(failed->pid == 0);
  CHECK_FALSE(failed->running());
  const std::vector<ObservedEvent> spawn_failures = seen.eventsOf("ghost", Kind::kSpawnFailed);
  REQUIRE(!spawn_failures.empty());
  CHECK(spawn_failures[0].spawn_error == ghost_unit.instances().front()->spawn_error);
  CHECK(seen.count("ghost", Kind::kStarted) == 0);

  // An absolute path that does not exist: the error names it too.
  const InstanceRecord* absent_failed = lastEndedInstance(absent_unit);
  REQUIRE(absent_failed != nullptr);
  INFO("absent spawn_error: " << absent_failed->spawn_error);
  CHECK(contains(absent_failed->spawn_error, "vigie-absent"));
  CHECK((contains(absent_failed->spawn_error, "not found") ||
         contains(absent_failed->spawn_error, "No such file or directory")));

  // The steady unit runs through the failures, and keeps running while they are retried (no
  // sooner than kSpawnFailureRetryFloor apart).
  REQUIRE(steady.currentInstance() != nullptr);
  const pid_t steady_pid = steady.currentInstance()->pid;
  CHECK(readPids(pidfile).front() == steady_pid);
  const uint64_t failures = ghost_unit.failedStarts();
  REQUIRE_MESSAGE(agent.runUntil([&] { return ghost_unit.failedStarts() > failures; }),
                  seen.stateTrail("ghost"));
  CHECK(steady.state() == UnitState::kRunning);
  CHECK(processAlive(steady_pid));
  REQUIRE(steady.currentInstance() != nullptr);
  CHECK(steady.currentInstance()->pid == steady_pid);
  CHECK(steady.totalRestarts() == 0);
  CHECK(ghost_unit.state() != UnitState::kRunning);
}

TEST_CASE("child environment: systemd variables are dropped and unit env is added") {
  std::vector<std::string> fake_environ{"PATH=/usr/local/bin:/usr/bin:/bin",
                                        "NOTIFY_SOCKET=/run/fake/notify",
                                        "WATCHDOG_USEC=5000000",
                                        "WATCHDOG_PID=1",
                                        "LISTEN_FDS=3",
                                        "LISTEN_PID=1",
                                        "LISTEN_FDNAMES=a:b:c",
                                        "VIGIE_KEEP=base",
                                        "VIGIE_OVERRIDE=base"};
  std::vector<char*> entries;
  for (auto& entry : fake_environ) {
    entries.push_back(entry.data());
  }
  entries.push_back(nullptr);
  std::vector<std::string> base = Supervisor::workloadBaseEnv(entries.data());
  const std::vector<std::string> expected_base{"PATH=/usr/local/bin:/usr/bin:/bin",
                                               "VIGIE_KEEP=base", "VIGIE_OVERRIDE=base"};
  CHECK(base == expected_base);

  TempDir dir;
  const std::string env_file = dir.file("environ");
  std::vector<WorkloadSpec> specs;
  const std::vector<std::string> names{"NOTIFY_SOCKET", "WATCHDOG_USEC",  "WATCHDOG_PID",
                                       "LISTEN_FDS",    "LISTEN_PID",     "LISTEN_FDNAMES",
                                       "VIGIE_KEEP",    "VIGIE_OVERRIDE", "VIGIE_UNIT"};
  for (const auto& name : names) {
    WorkloadSpec spec = helperWorkload("env-" + name, {"env", name});
    spec.restart.policy = RestartPolicyKind::kNever;
    spec.env = {{"VIGIE_OVERRIDE", "unit"}, {"VIGIE_UNIT", "from-unit"}};
    specs.push_back(spec);
  }
  WorkloadSpec dump = helperWorkload("dump", {"environ", env_file});
  dump.restart.policy = RestartPolicyKind::kNever;
  dump.env = {{"VIGIE_UNIT", "from-unit"}};
  specs.push_back(dump);

  InProcessAgent agent(base);
  agent.load(specs);
  agent.startAll();
  REQUIRE(agent.runUntil([&] {
    for (const auto& unit : agent.supervisor().units()) {
      const InstanceRecord* ended = lastEndedInstance(*unit);
      if (unit->state() != UnitState::kExited || ended == nullptr || !outputDrained(*ended)) {
        return false;
      }
    }
    return true;
  }));

  const std::map<std::string, std::string> expected{
      {"NOTIFY_SOCKET", "(unset)"}, {"WATCHDOG_USEC", "(unset)"}, {"WATCHDOG_PID", "(unset)"},
      {"LISTEN_FDS", "(unset)"},    {"LISTEN_PID", "(unset)"},    {"LISTEN_FDNAMES", "(unset)"},
      {"VIGIE_KEEP", "base"},       {"VIGIE_OVERRIDE", "unit"},   {"VIGIE_UNIT", "from-unit"}};
  for (const auto& [name, value] : expected) {
    CAPTURE(name);
    const InstanceRecord* ended = lastEndedInstance(agent.unit("env-" + name));
    REQUIRE(ended != nullptr);
    REQUIRE(ended->exit.has_value());
    CHECK(ended->exit->code == 0);
    CHECK(ended->stdout_tail.contents() == name + "=" + value + "\n");
  }

  // The whole environment: the base, then the unit's entries; nothing of systemd's.
  const std::vector<std::string> lines = readLines(env_file);
  const std::vector<std::string> expected_env{"PATH=/usr/local/bin:/usr/bin:/bin",
                                              "VIGIE_KEEP=base", "VIGIE_OVERRIDE=base",
                                              "VIGIE_UNIT=from-unit"};
  CHECK(lines == expected_env);
}

TEST_CASE("child setup: stdin is /dev/null and the child leads its session with no fd above 2") {
  LeakyFd leaky(77);  // what the test process has open without CLOEXEC.
  TempDir dir;
  const std::string fds_file = dir.file("fds");
  const std::string pidfile = dir.file("leader.pids");
  InProcessAgent agent;
  WorkloadSpec lister = helperWorkload("lister", {"fds", fds_file});
  lister.restart.policy = RestartPolicyKind::kNever;
  agent.load({lister, helperWorkload("leader", {"pidfile", pidfile})});
  agent.startAll();

  Unit& leader = agent.unit("leader");
  Unit& lister_unit = agent.unit("lister");
  REQUIRE(agent.runUntil(
      [&] { return readPids(pidfile).size() == 1 && lister_unit.state() == UnitState::kExited; }));
  REQUIRE(leader.currentInstance() != nullptr);
  const pid_t pid = leader.currentInstance()->pid;
  CHECK(::getsid(pid) == pid);
  CHECK(::getpgid(pid) == pid);
  CHECK(::getsid(pid) != ::getsid(0));

  const InstanceRecord* listed = lastEndedInstance(lister_unit);
  REQUIRE(listed != nullptr);
  REQUIRE(listed->exit.has_value());
  CHECK(listed->exit->code == 0);
  const std::vector<std::string> lines = readLines(fds_file);
  INFO("fds file:\n" << readFile(fds_file));
  REQUIRE(lines.size() == 6);
  CHECK(lines[0] == "pid " + std::to_string(listed->pid));
  CHECK(lines[1] == "sid " + std::to_string(listed->pid));
  CHECK(lines[2] == "pgid " + std::to_string(listed->pid));
  CHECK(lines[3] == "fd 0 /dev/null");
  CHECK(lines[4].rfind("fd 1 pipe:[", 0) == 0);
  CHECK(lines[5].rfind("fd 2 pipe:[", 0) == 0);
  CHECK_FALSE(hasPrefix(lines, "fd 77 "));
}

}  // namespace
}  // namespace vigie::testing
