// Black-box: the real build/bin/vigied with a temporary config, state dir and socket. What it
// does is read from files its workloads write, from its log lines (stderr) and its exit code.
// Acceptance points 5 (flood, memory), 6 (missing binary), 8 (SIGTERM), 9 (--check-config),
// 10 (child environment) and 11 (the peer-benchmark adapter script).
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "agent/os/pidfd.h"
#include "agent/os/unique_fd.h"
#include "tests/integration/harness.h"
#include "tests/integration/text_checks.h"

namespace vigie::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

bool hasPrefix(const std::vector<std::string>& lines, const std::string& prefix) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& line) { return line.rfind(prefix, 0) == 0; });
}

// A pidfd names one process for good: readable once it has terminated, whoever reaps it.
bool pidfdTerminated(int pidfd) {
  pollfd p{pidfd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

size_t firstOffset(const std::string& log, const std::string& needle) {
  const size_t at = log.find(needle);
  return at == std::string::npos ? std::string::npos : at;
}

uint64_t writtenBytes(pid_t pid) {
  for (const std::string& line : readLines("/proc/" + std::to_string(pid) + "/io")) {
    if (line.rfind("wchar:", 0) == 0) {
      return std::stoull(line.substr(6));
    }
  }
  return 0;
}

TEST_CASE("vigied --check-config: 0 for a valid file and file:line:col errors for an invalid one") {
  TempDir dir;
  const std::string good = dir.file("good.yaml");
  writeFile(good,
            "workloads:\n"
            "  - name: ok\n" +
                helperExec({"exit", "0"}) + "    restart: {policy: on-failure}\n");
  {
    DaemonProcess check(dir, {.args = {"--check-config", good}});
    REQUIRE(check.waitExit());
    CHECK_MESSAGE(check.exitCode() == 0, check.describeStatus() << "\n" << check.stderrText());
    CHECK(check.stdoutText() == good + ": ok, 1 workload(s)\n");
    CHECK(check.stderrText().empty());
  }

  const std::string bad = dir.file("bad.yaml");
  writeFile(bad,
            "workloads:\n"                 // 1
            "  - name: bad\n"              // 2
            "    exec: [\"/bin/true\"]\n"  // 3
            "    restart:\n"               // 4
            "      policy: sometimes\n"    // 5, the value at column 15
            "    stop:\n"                  // 6
            "      timeout: soon\n");      // 7, the value at column 16
  DaemonProcess check(dir, {.args = {"--check-config", bad}});
  REQUIRE(check.waitExit());
  const std::string errors = check.stderrText();
  INFO("stderr:\n" << errors);
  CHECK_MESSAGE(check.exitCode() == 1, check.describeStatus());
  CHECK(check.stdoutText().empty());
  const std::vector<std::string> lines = linesContaining(errors, "");
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].rfind(bad + ":5:15: ", 0) == 0);
  CHECK(contains(lines[0], "unknown policy \"sometimes\""));
  CHECK(lines[1].rfind(bad + ":7:16: ", 0) == 0);
  CHECK(contains(lines[1], "soon"));

  // A file that is not there is an error too, still naming the file.
  DaemonProcess missing(dir, {.args = {"--check-config", dir.file("absent.yaml")}});
  REQUIRE(missing.waitExit());
  CHECK(missing.exitCode() == 1);
  CHECK(missing.stderrText().rfind(dir.file("absent.yaml") + ":", 0) == 0);
}

TEST_CASE("vigied flood: memory stays bounded and another unit keeps being restarted") {
  TempDir dir;
  const std::string pidfile = dir.file("crash.pids");
  const std::string config = dir.file("vigie.yaml");
  writeFile(config,
            "workloads:\n"
            "  - name: flood\n" +
                helperExec({"flood"}) +
                "    output: {tail: 64KiB}\n"
                "  - name: crash\n" +
                helperExec({"pidfile", pidfile}) +
                "    restart:\n"
                "      backoff: {initial: 0s, max: 0s}\n"
                "      limit: {burst: 0}\n");
  DaemonProcess vigied(dir, {.args = daemonArgs(dir, config)});
  REQUIRE_MESSAGE(vigied.waitForLog(" flood: instance 1 started, pid "), vigied.stderrText());
  const pid_t flood_pid = loggedPid(vigied.stderrText(), "flood", 1);
  REQUIRE(flood_pid > 0);
  REQUIRE(pollUntil([&] { return readPids(pidfile).size() == 1; }));

  // Bounded means flat: what the flood adds once it flows (the 8 MiB log queue, the tail, the
  // allocator's slack) is bounded, whatever the agent's floor (gRPC, metrics, sanitizers).
  const std::optional<uint64_t> floor_rss = residentBytes(vigied.pid());
  REQUIRE(floor_rss.has_value());
  const uint64_t growth_bound = (sanitizedBuild() ? 96 : 16) * uint64_t{1024 * 1024};
  const uint64_t bound = *floor_rss + growth_bound;
  uint64_t peak = 0;
  int samples = 0;
  auto sample = [&] {
    const std::optional<uint64_t> rss = residentBytes(vigied.pid());
    REQUIRE_MESSAGE(rss.has_value(), "vigied is gone: " << vigied.stderrText());
    peak = std::max(peak, *rss);
    ++samples;
  };

  // A bounded sampling loop of a few seconds; meanwhile the crash unit is killed again and
  // again, and each kill must give a restart (a new pid appended to its file).
  const auto start = SteadyClock::now();
  size_t kills = 0;
  while (SteadyClock::now() - start < 3s || kills < 5) {
    const std::vector<pid_t> pids = readPids(pidfile);
    REQUIRE(::kill(pids.back(), SIGKILL) == 0);
    ++kills;
    REQUIRE_MESSAGE(pollUntil([&] { return readPids(pidfile).size() == pids.size() + 1; }),
                    "no restart after kill " << kills << "\n"
                                             << vigied.stderrText());
    sample();
    std::this_thread::sleep_for(200ms);
    sample();
  }

  INFO("peak VmRSS " << peak / 1024 << " KiB over " << samples << " samples, floor "
                     << *floor_rss / 1024 << " KiB, bound " << bound / 1024 << " KiB");
  CHECK(peak > 0);
  CHECK(peak < bound);
  CHECK(vigied.running());
  CHECK(processAlive(flood_pid));
  // The flood really flowed through vigied: far more than the tail it keeps.
  const uint64_t flooded = writtenBytes(flood_pid);
  MESSAGE("vigied peak VmRSS " << peak / 1024 << " KiB (bound " << bound / 1024
                               << " KiB) while the flood wrote " << flooded / (1024 * 1024)
                               << " MiB and the crash unit was restarted " << kills << " times");
  CHECK(flooded > 16 * 1024 * 1024);
  const std::string log = vigied.stderrText();
  CHECK_FALSE(contains(log, " flood: instance 2 "));
  CHECK(linesContaining(log, "crash: instance ").size() >= 2 * kills);
  CHECK(contains(log, " crash: instance " + std::to_string(kills + 1) + " started, pid "));
}

TEST_CASE("vigied missing binary: logs failed to start and keeps the other unit running") {
  TempDir dir;
  const std::string pidfile = dir.file("steady.pids");
  const std::string config = dir.file("vigie.yaml");
  writeFile(config,
            "workloads:\n"
            "  - name: ghost\n"
            "    exec: [\"vigie-no-such-binary-xyz\"]\n"
            "  - name: steady\n" +
                helperExec({"pidfile", pidfile}));
  DaemonProcess vigied(dir, {.args = daemonArgs(dir, config)});
  REQUIRE_MESSAGE(vigied.waitForLog(" ghost: instance 1 failed to start: "), vigied.stderrText());
  REQUIRE(pollUntil([&] { return readPids(pidfile).size() == 1; }));
  const pid_t steady_pid = readPids(pidfile).front();

  const std::vector<std::string> failures =
      linesContaining(vigied.stderrText(), " ghost: instance 1 failed to start: ");
  REQUIRE(failures.size() == 1);
  INFO(failures[0]);
  CHECK(contains(failures[0], "vigie-no-such-binary-xyz"));
  CHECK(contains(failures[0], "not found"));
  CHECK(contains(failures[0], "error"));

  // It keeps retrying the ghost (slowly) and keeps the steady unit running all along.
  REQUIRE_MESSAGE(vigied.waitForLog(" ghost: instance 3 failed to start: "), vigied.stderrText());
  CHECK(vigied.running());
  CHECK(processAlive(steady_pid));
  CHECK(readPids(pidfile).size() == 1);
  CHECK(loggedPid(vigied.stderrText(), "steady", 1) == steady_pid);
}

TEST_CASE("vigied SIGTERM: every unit is stopped in parallel and vigied exits 0") {
  TempDir dir;
  const std::string ready_a = dir.file("a.ready");
  const std::string ready_b = dir.file("b.ready");
  const std::string config = dir.file("vigie.yaml");
  writeFile(config,
            "workloads:\n"
            "  - name: stubborn-a\n" +
                helperExec({"ignore-term", ready_a}) +
                "    stop: {timeout: 1s}\n"
                "  - name: stubborn-b\n" +
                helperExec({"ignore-term", ready_b}) + "    stop: {timeout: 1s}\n");
  std::vector<std::string> args = daemonArgs(dir, config);
  args.insert(args.end(), {"--log-level", "debug"});
  DaemonProcess vigied(dir, {.args = args});
  // Both ignore SIGTERM once their file is written.
  REQUIRE_MESSAGE(
      pollUntil([&] { return readPids(ready_a).size() == 1 && readPids(ready_b).size() == 1; }),
      vigied.stderrText());
  const pid_t pid_a = readPids(ready_a).front();
  const pid_t pid_b = readPids(ready_b).front();
  UniqueFd pidfd_a(pidfdOpen(pid_a, 0));
  UniqueFd pidfd_b(pidfdOpen(pid_b, 0));
  REQUIRE(pidfd_a.valid());
  REQUIRE(pidfd_b.valid());

  const auto sent = SteadyClock::now();
  REQUIRE(::kill(vigied.pid(), SIGTERM) == 0);
  REQUIRE_MESSAGE(vigied.waitExit(10s), vigied.stderrText());
  const auto took = SteadyClock::now() - sent;
  const std::string log = vigied.stderrText();
  INFO("log:\n" << log);
  CHECK_MESSAGE(vigied.exitCode() == 0, vigied.describeStatus());
  CHECK(took < 10s);
  CHECK(pidfdTerminated(pidfd_a.get()));
  CHECK(pidfdTerminated(pidfd_b.get()));
  // vigied reaped them itself: nothing of them was orphaned onto us.
  CHECK(childrenOf(::getpid()).empty());

  CHECK(contains(log, "SIGTERM received: stopping 2 unit(s)"));
  CHECK(contains(log, " stubborn-a: instance 1 ended (signal SIGKILL after "));
  CHECK(contains(log, " stubborn-b: instance 1 ended (signal SIGKILL after "));
  CHECK(contains(log, "vigied stopped"));
  // In parallel: both were asked to stop before either one's stop timeout killed it.
  const size_t stopping_a = firstOffset(log, " stubborn-a: running -> stopping");
  const size_t stopping_b = firstOffset(log, " stubborn-b: running -> stopping");
  const size_t first_end = firstOffset(log, ": instance 1 ended (");
  REQUIRE(stopping_a != std::string::npos);
  REQUIRE(stopping_b != std::string::npos);
  REQUIRE(first_end != std::string::npos);
  CHECK(stopping_a < first_end);
  CHECK(stopping_b < first_end);
}

TEST_CASE("vigied child environment: no systemd variables and no leaked fd but the unit env") {
  TempDir dir;
  const std::string env_file = dir.file("environ");
  const std::string fds_file = dir.file("fds");
  const std::string config = dir.file("vigie.yaml");
  writeFile(config,
            "workloads:\n"
            "  - name: envdump\n" +
                helperExec({"environ", env_file}) +
                "    env:\n"
                "      VIGIE_UNIT_VAR: from-config\n"
                "      VIGIE_AGENT_VAR: overridden\n"
                "    restart: {policy: on-failure}\n"
                "  - name: fdlist\n" +
                helperExec({"fds", fds_file}) + "    restart: {policy: on-failure}\n");
  constexpr int kLeakedFd = 42;
  DaemonProcess vigied(dir, {.args = daemonArgs(dir, config),
                             .extra_env = {{"NOTIFY_SOCKET", dir.file("notify")},
                                           {"WATCHDOG_USEC", "5000000"},
                                           {"WATCHDOG_PID", "1"},
                                           {"LISTEN_FDS", "1"},
                                           {"LISTEN_PID", "1"},
                                           {"LISTEN_FDNAMES", "web"},
                                           {"VIGIE_AGENT_VAR", "from-agent"},
                                           {"VIGIE_AGENT_ONLY", "kept"}},
                             .inherited_fd = kLeakedFd});
  REQUIRE_MESSAGE(pollUntil([&] {
                    return ::access(env_file.c_str(), F_OK) == 0 &&
                           ::access(fds_file.c_str(), F_OK) == 0;
                  }),
                  vigied.stderrText());
  // vigied itself did inherit the fd, and the systemd variables: the test is meaningful.
  CHECK(readFile("/proc/" + std::to_string(vigied.pid()) + "/environ").find("NOTIFY_SOCKET=") !=
        std::string::npos);
  char target[256] = {};
  const std::string leaked =
      "/proc/" + std::to_string(vigied.pid()) + "/fd/" + std::to_string(kLeakedFd);
  CHECK(::readlink(leaked.c_str(), target, sizeof(target) - 1) > 0);
  CHECK(std::string(target) == "/dev/null");

  const std::vector<std::string> env = readLines(env_file);
  INFO("workload environment:\n" << readFile(env_file));
  CHECK_FALSE(hasPrefix(env, "NOTIFY_SOCKET="));
  CHECK_FALSE(hasPrefix(env, "WATCHDOG_"));
  CHECK_FALSE(hasPrefix(env, "LISTEN_"));
  CHECK(hasPrefix(env, "PATH="));
  CHECK(std::count(env.begin(), env.end(), "VIGIE_UNIT_VAR=from-config") == 1);
  CHECK(std::count(env.begin(), env.end(), "VIGIE_AGENT_VAR=overridden") == 1);
  CHECK_FALSE(hasPrefix(env, "VIGIE_AGENT_VAR=from-agent"));
  CHECK(std::count(env.begin(), env.end(), "VIGIE_AGENT_ONLY=kept") == 1);

  const std::vector<std::string> fds = readLines(fds_file);
  INFO("workload fds:\n" << readFile(fds_file));
  REQUIRE(fds.size() == 6);
  const std::string pid = fds[0].substr(4);
  CHECK(fds[0] == "pid " + pid);
  CHECK(fds[1] == "sid " + pid);
  CHECK(fds[2] == "pgid " + pid);
  CHECK(fds[3] == "fd 0 /dev/null");
  CHECK(fds[4].rfind("fd 1 pipe:[", 0) == 0);
  CHECK(fds[5].rfind("fd 2 pipe:[", 0) == 0);

  // Both ended with 0 and stay ended under on-failure.
  REQUIRE(vigied.waitForLog(" fdlist: instance 1 ended (exit code 0"));
  REQUIRE(vigied.waitForLog(" envdump: instance 1 ended (exit code 0"));
  CHECK(vigied.running());
}

TEST_CASE("vigied subreaper: an orphaned grandchild is re-parented to vigied and reaped") {
  TempDir dir;
  const std::string pidfile = dir.file("orphan.pids");
  const std::string config = dir.file("vigie.yaml");
  writeFile(config,
            "workloads:\n"
            "  - name: parent\n" +
                helperExec({"orphan", pidfile}) + "    restart: {policy: on-failure}\n");
  DaemonProcess vigied(dir, {.args = daemonArgs(dir, config)});
  REQUIRE_MESSAGE(pollUntil([&] { return readPids(pidfile).size() == 1; }), vigied.stderrText());
  const pid_t orphan = readPids(pidfile).front();
  // Its parent exited at once (and is not restarted): the orphan now belongs to vigied.
  REQUIRE(vigied.waitForLog(" parent: instance 1 ended (exit code 0"));
  CHECK_MESSAGE(pollUntil([&] { return parentOf(orphan) == std::optional<pid_t>(vigied.pid()); }),
                "parent of " << orphan << ": " << parentOf(orphan).value_or(-1));
  CHECK(processAlive(orphan));

  // Once it exits, vigied reaps it: no zombie is left behind.
  writeFile(pidfile + ".go", "");
  CHECK_MESSAGE(pollUntil([&] { return !processState(orphan).has_value(); }),
                "orphan " << orphan << " state " << processState(orphan).value_or('?')
                          << ", parent " << parentOf(orphan).value_or(-1));
  CHECK(vigied.running());
  CHECK(linesContaining(vigied.stderrText(), " parent: instance ").size() == 2);
}

TEST_CASE("peer-benchmark adapter script: 20 crashes give 20 immediate restarts") {
  const char* override_path = std::getenv("VIGIE_PEERS_ADAPTER");
  const std::string script = override_path != nullptr ? override_path
                                                      : VIGIE_SOURCE_DIR
                                 "/../shared/peers/examples/agent-vigie.sh";
  struct stat st {};
  if (::stat(script.c_str(), &st) != 0) {
    MESSAGE("skipped: no adapter script at " << script << " (set VIGIE_PEERS_ADAPTER)");
    return;
  }
  TempDir dir;
  const std::string services = dir.file("services");
  writeFile(services, helperPath() + " segv\n");
  // The adapter starts vigied with its defaults, which would install vigied's core_pattern on
  // the host while this segfault loop runs, take the fixed metrics port that another agent may
  // hold, and make cgroups under the host's `vigie` parent (left behind if vigied dies): the
  // wrapper adds `leave`, a port of the kernel's choosing and no cgroups, as bench/run.sh does.
  const std::string vigied_leave = dir.file("vigied-leave");
  writeFile(vigied_leave,
            "#!/bin/sh\nexec '" + vigiedPath() +
                "' --core-pattern leave --metrics-listen 127.0.0.1:0 --cgroups off \"$@\"\n");
  REQUIRE(::chmod(vigied_leave.c_str(), 0755) == 0);
  DaemonProcess vigied(dir, {.args = {script},
                             .extra_env = {{"PEERS_SERVICES", services}, {"VIGIED", vigied_leave}},
                             .program = "/bin/bash"});
  REQUIRE_MESSAGE(vigied.waitForLog(" s0: instance 21 started, pid "), vigied.stderrText());
  REQUIRE(::kill(vigied.pid(), SIGTERM) == 0);
  REQUIRE(vigied.waitExit());
  const std::string log = vigied.stderrText();
  CHECK_MESSAGE(vigied.exitCode() == 0, vigied.describeStatus() << "\n" << log);

  // The script wrote the config we expect, next to the services file.
  const std::string written = readFile(dir.file("vigie.yaml"));
  CHECK(contains(written, "backoff: {initial: 0s, max: 0s}"));
  CHECK(contains(written, "limit: {burst: 0}"));

  for (int i = 1; i <= 20; ++i) {
    CAPTURE(i);
    const std::vector<std::string> ended =
        linesContaining(log, " s0: instance " + std::to_string(i) + " ended (");
    REQUIRE(ended.size() == 1);
    CHECK(contains(ended[0], "signal SIGSEGV"));
    CHECK(contains(ended[0], "restarting now"));
  }
  CHECK(linesContaining(log, ", restart ").empty());  // "restart N in DELAY": a backoff.
  CHECK_FALSE(contains(log, "start limit reached"));
}

}  // namespace
}  // namespace vigie::testing
