// OCI container workloads run by a real vigied with a real runc, on busybox-static root
// filesystems the tests build (docs/containers.md).

#include <signal.h>
#include <sys/stat.h>

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/integration/api_calls.h"
#include "tests/integration/container_rootfs.h"
#include "tests/integration/harness.h"
#include "tests/integration/text_checks.h"

namespace vigie::testing {
namespace {

bool ended(const std::optional<v1::Instance>& instance) {
  return instance && instance->has_exit();
}

bool unitIn(ApiAgent& agent, const std::string& name, v1::UnitState state) {
  const auto unit = agent.unit(name);
  return unit && unit->state() == state;
}

// `name`'s container workload on `rootfs` with `args` and the extra YAML `lines` (indented
// for the workload's map).
std::string containerUnit(const std::string& name, const std::string& rootfs,
                          const std::string& args, const std::string& lines = "",
                          const std::string& container_lines = "") {
  return "  - name: " + name + "\n" + lines + "    container:\n      rootfs: " + rootfs +
         "\n      args: " + args + "\n" + container_lines;
}

std::string stateRoot(const TempDir& dir) {
  return dir.file("state/runtime/runc");
}

// The files vigied keeps per container instance (pid file, runtime log) in the unit's dir.
std::vector<std::string> instanceFiles(const TempDir& dir, const std::string& unit) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(dir.file("state/containers/" + unit), ec)) {
    const std::string name = entry.path().filename().string();
    if (name != "config.json") {
      names.push_back(name);
    }
  }
  return names;
}

void requireStopped(ApiAgent& agent, const std::string& name) {
  v1::StopUnitRequest stop;
  stop.set_name(name);
  v1::StopUnitResponse stopped;
  REQUIRE(agent.stub().StopUnit(callContext().get(), stop, &stopped).ok());
  REQUIRE_MESSAGE(pollUntil([&] { return unitIn(agent, name, v1::UNIT_STATE_STOPPED); }),
                  agent.log());
}

TEST_CASE("container: runs from a busybox rootfs, its output captured, its exit code its own") {
  TempDir dir;
  const std::string rootfs = makeBusyboxRootfs(dir.file("rootfs"));
  const std::string config = dir.file("vigie.yaml");
  writeFile(config,
            "workloads:\n" + containerUnit("box", rootfs,
                                           "[/bin/sh, -c, \"echo out from $(hostname) as $$; echo "
                                           "err-line >&2; exit 7\"]",
                                           "    restart: {policy: never}\n"));
  ApiAgent agent(dir, config);
  REQUIRE_MESSAGE(pollUntil([&] { return ended(agent.instance("box", 1)); }), agent.log());
  const v1::Instance first = *agent.instance("box", 1);
  CHECK(first.exit().kind() == v1::EXIT_KIND_EXITED);
  CHECK(first.exit().code() == 7);
  CHECK(first.exit().spawn_error().empty());
  // The pid is the container's process, not the runtime's: it is PID 1 in its namespace.
  const pid_t logged = loggedPid(agent.log(), "box", 1);
  CHECK(first.pid() == logged);
  REQUIRE(pollUntil([&] { return !readFile(dir.file("state/logs/box/stdout.log")).empty(); }));
  // The hostname is the unit's (a UTS namespace), and the shell is PID 1 (a pid namespace).
  CHECK(pollUntil([&] {
    return contains(readFile(dir.file("state/logs/box/stdout.log")), "out from box as 1");
  }));
  CHECK(pollUntil(
      [&] { return contains(readFile(dir.file("state/logs/box/stderr.log")), "err-line"); }));
  // The ended container is deleted, with its pid file and runtime log.
  CHECK_MESSAGE(pollUntil([&] { return runcContainers(stateRoot(dir)).empty(); }), agent.log());
  CHECK(pollUntil([&] { return instanceFiles(dir, "box").empty(); }));
  // What an SRE sees: the rootfs and the runtime's choice instead of exec.
  const std::string shown = agent.vigiectl("unit show box");
  INFO(shown);
  const auto rootfs_lines = linesContaining(shown, "  rootfs: ");
  REQUIRE(rootfs_lines.size() == 1);
  CHECK(contains(rootfs_lines[0], rootfs + " (read-only)"));
  const auto init_lines = linesContaining(shown, "  init: ");
  REQUIRE(init_lines.size() == 1);
  CHECK(contains(init_lines[0], "no (the workload is PID 1)"));
  CHECK_FALSE(contains(shown, "exec:"));
}

TEST_CASE("container: SIGSEGV kills a PID 1 workload, and with init tini reports exit 139") {
  TempDir dir;
  const std::string rootfs = makeBusyboxRootfs(dir.file("rootfs"), staticCrasherPath());
  const std::string config = dir.file("vigie.yaml");
  const std::string never = "    restart: {policy: never}\n";
  writeFile(config, "workloads:\n" + containerUnit("bare", rootfs, "[/bin/crash]", never) +
                        containerUnit("tini", rootfs, "[/bin/crash]", never, "      init: true\n"));
  ApiAgent agent(dir, config);
  REQUIRE_MESSAGE(pollUntil([&] { return ended(agent.instance("bare", 1)); }), agent.log());
  const v1::Instance bare = *agent.instance("bare", 1);
  CHECK((bare.exit().kind() == v1::EXIT_KIND_KILLED || bare.exit().kind() == v1::EXIT_KIND_DUMPED));
  CHECK(bare.exit().signal() == SIGSEGV);
  // Under an init the workload is PID 2: tini reaps it and exits with 128 + its signal.
  REQUIRE_MESSAGE(pollUntil([&] { return ended(agent.instance("tini", 1)); }), agent.log());
  const v1::Instance tini = *agent.instance("tini", 1);
  CHECK(tini.exit().kind() == v1::EXIT_KIND_EXITED);
  CHECK(tini.exit().code() == 128 + SIGSEGV);
  CHECK_MESSAGE(pollUntil([&] { return runcContainers(stateRoot(dir)).empty(); }), agent.log());
}

TEST_CASE("container: a crash loop restarts a new container each time and deletes the old") {
  TempDir dir;
  const std::string rootfs = makeBusyboxRootfs(dir.file("rootfs"));
  const std::string config = dir.file("vigie.yaml");
  writeFile(config, "workloads:\n" + containerUnit("loop", rootfs, "[/bin/sh, -c, \"exit 3\"]",
                                                   "    restart:\n"
                                                   "      policy: on-failure\n"
                                                   "      backoff: {initial: 10ms, max: 50ms}\n"
                                                   "      limit: {burst: 0}\n"));
  ApiAgent agent(dir, config);
  REQUIRE_MESSAGE(pollUntil([&] { return ended(agent.instance("loop", 3)); }), agent.log());
  const auto first = agent.instance("loop", 1);
  const auto third = agent.instance("loop", 3);
  REQUIRE(first);
  CHECK(first->exit().code() == 3);
  CHECK(third->exit().code() == 3);
  CHECK(first->pid() != third->pid());
  CHECK(agent.unit("loop")->failed_starts() == 0);
  requireStopped(agent, "loop");
  CHECK_MESSAGE(pollUntil([&] { return runcContainers(stateRoot(dir)).empty(); }), agent.log());
  CHECK(pollUntil([&] { return instanceFiles(dir, "loop").empty(); }));
}

TEST_CASE("container: a stop waits out stop.timeout for a bare PID 1, an init passes SIGTERM on") {
  TempDir dir;
  const std::string rootfs = makeBusyboxRootfs(dir.file("rootfs"));
  const std::string config = dir.file("vigie.yaml");
  const std::string stop = "    stop: {timeout: 1s}\n";
  writeFile(config, "workloads:\n" + containerUnit("bare", rootfs, "[/bin/sleep, \"1000\"]", stop) +
                        containerUnit("tini", rootfs, "[/bin/sleep, \"1000\"]", stop,
                                      "      init: true\n"));
  ApiAgent agent(dir, config);
  for (const char* name : {"bare", "tini"}) {
    REQUIRE_MESSAGE(pollUntil([&] { return unitIn(agent, name, v1::UNIT_STATE_RUNNING); }),
                    agent.log());
  }
  CHECK(runcContainers(stateRoot(dir)).size() == 2);
  const pid_t bare_pid = agent.instance("bare", 1)->pid();
  CHECK(processAlive(bare_pid));

  requireStopped(agent, "bare");
  requireStopped(agent, "tini");
  // PID 1 without a handler ignores SIGTERM: only the SIGKILL after stop.timeout ends it.
  const v1::Instance bare = *agent.instance("bare", 1);
  CHECK(bare.exit().signal() == SIGKILL);
  CHECK(bare.exit().runtime().seconds() >= 1);
  CHECK_FALSE(processAlive(bare_pid));
  // tini forwards SIGTERM to sleep and exits with 128 + SIGTERM.
  const v1::Instance tini = *agent.instance("tini", 1);
  CHECK(tini.exit().kind() == v1::EXIT_KIND_EXITED);
  CHECK(tini.exit().code() == 128 + SIGTERM);
  CHECK_MESSAGE(pollUntil([&] { return runcContainers(stateRoot(dir)).empty(); }), agent.log());
}

TEST_CASE("container: sd_notify from inside, and a watchdog that ends a hung container") {
  TempDir dir;
  const std::string rootfs = makeBusyboxRootfs(dir.file("rootfs"), "", staticHealthWorkloadPath());
  const std::string config = dir.file("vigie.yaml");
  // READY=1, three WATCHDOG=1 pings 100ms apart, STATUS=hung, then it hangs. No cores.
  const std::string health =
      "    notify: true\n    watchdog: 1s\n    core: false\n    stop: {timeout: 1s}\n"
      "    restart: {policy: never}\n";
  const std::string args = "[/bin/health, watchdog, \"3\", \"100\"]";
  writeFile(config, "workloads:\n" + containerUnit("bare", rootfs, args, health) +
                        containerUnit("tini", rootfs, args, health, "      init: true\n"));
  ApiAgent agent(dir, config);
  for (const char* name : {"bare", "tini"}) {
    REQUIRE_MESSAGE(pollUntil([&] { return ended(agent.instance(name, 1)); }), agent.log());
    const v1::Instance first = *agent.instance(name, 1);
    INFO(name);
    // The datagrams came from inside the container, through the mounted socket, and were
    // routed by the sender's host pid (the instance itself, or a process of its session).
    CHECK(first.ready());
    CHECK(first.notify_status() == "hung");
    CHECK(first.exit().reason() == v1::EXIT_REASON_WATCHDOG);
    CHECK(contains(agent.log(), std::string(name) +
                                    ": instance 1 sent no WATCHDOG=1 within 1s: sending SIGABRT"));
  }
  // PID 1 ignores the SIGABRT it has no handler for: the SIGKILL after stop.timeout ends it.
  CHECK(agent.instance("bare", 1)->exit().signal() == SIGKILL);
  // tini passes SIGABRT on to the workload, and exits with 128 + SIGABRT.
  CHECK_MESSAGE(agent.instance("tini", 1)->exit().code() == 128 + SIGABRT,
                agent.instance("tini", 1)->exit().description());
  CHECK_MESSAGE(pollUntil([&] { return runcContainers(stateRoot(dir)).empty(); }), agent.log());
}

TEST_CASE("container: a missing rootfs is the runtime's error, not a workload exit") {
  TempDir dir;
  const std::string config = dir.file("vigie.yaml");
  writeFile(config, "workloads:\n" + containerUnit("lost", dir.file("no-such-rootfs"), "[/bin/sh]",
                                                   "    restart: {policy: never}\n"));
  ApiAgent agent(dir, config);
  REQUIRE_MESSAGE(pollUntil([&] { return ended(agent.instance("lost", 1)); }), agent.log());
  const v1::Instance first = *agent.instance("lost", 1);
  CHECK(first.exit().kind() == v1::EXIT_KIND_SPAWN_FAILED);
  CHECK_MESSAGE(contains(first.exit().spawn_error(), "runc: invalid rootfs"),
                first.exit().spawn_error());
  CHECK(contains(first.exit().spawn_error(), "no-such-rootfs"));
  CHECK(agent.unit("lost")->failed_starts() == 1);
  CHECK(contains(agent.log(), "lost: instance 1 failed to start: runc: invalid rootfs"));
  // Not a crash: no incident for it.
  CHECK_FALSE(contains(agent.log(), ": lost instance 1"));
  CHECK(pollUntil([&] { return instanceFiles(dir, "lost").empty(); }));
}

TEST_CASE("container: a runtime that hangs holds neither a stop nor vigied's exit") {
  TempDir dir;
  const std::string rootfs = makeBusyboxRootfs(dir.file("rootfs"));
  // A runtime that never finishes creating a container, nor deleting one.
  const std::string runtime = dir.file("hung-runtime");
  writeFile(runtime, "#!/bin/sh\nexec sleep 1000\n");
  REQUIRE(::chmod(runtime.c_str(), 0755) == 0);
  const std::string config = dir.file("vigie.yaml");
  writeFile(config, "workloads:\n" + containerUnit("hung", rootfs, "[/bin/sh]",
                                                   "    stop: {timeout: 1s}\n"
                                                   "    restart: {policy: never}\n",
                                                   "      runtime: " + runtime + "\n"));
  ApiAgent agent(dir, config);
  REQUIRE_MESSAGE(pollUntil([&] { return unitIn(agent, "hung", v1::UNIT_STATE_STARTING); }),
                  agent.log());
  // The stop's SIGKILL after stop.timeout ends the runtime: a failed start, not a hang.
  requireStopped(agent, "hung");
  const v1::Instance first = *agent.instance("hung", 1);
  CHECK(first.exit().kind() == v1::EXIT_KIND_SPAWN_FAILED);
  CHECK_MESSAGE(contains(first.exit().spawn_error(), "hung-runtime: exited with signal SIGKILL"),
                first.exit().spawn_error());
  // Its delete hangs too: vigied waits a while for it, then exits all the same.
  REQUIRE(::kill(agent.process().pid(), SIGTERM) == 0);
  REQUIRE(agent.process().waitExit(30s));
  CHECK(agent.process().exitCode() == 0);
  CHECK(contains(agent.log(), "1 container deletion(s) still running: exiting without them"));
}

TEST_CASE(
    "container: vigied deletes its containers when it stops, and a next one deletes "
    "those a killed one left") {
  TempDir dir;
  const std::string rootfs = makeBusyboxRootfs(dir.file("rootfs"));
  const std::string config = dir.file("vigie.yaml");
  writeFile(config,
            "workloads:\n" + containerUnit("box", rootfs, "[/bin/sleep, \"1000\"]",
                                           "    stop: {timeout: 1s}\n", "      init: true\n"));
  pid_t left_pid = 0;
  {
    ApiAgent agent(dir, config);
    REQUIRE_MESSAGE(pollUntil([&] { return unitIn(agent, "box", v1::UNIT_STATE_RUNNING); }),
                    agent.log());
    REQUIRE(runcContainers(stateRoot(dir)).size() == 1);
    left_pid = agent.instance("box", 1)->pid();
    // A crash of vigied itself: its container stays behind, re-parented to the test.
    REQUIRE(::kill(agent.process().pid(), SIGKILL) == 0);
    REQUIRE(agent.process().waitExit());
  }
  REQUIRE(runcContainers(stateRoot(dir)).size() == 1);
  {
    ApiAgent agent(dir, config);
    CHECK(contains(agent.log(), "was left by a previous vigied: deleting it"));
    REQUIRE_MESSAGE(pollUntil([&] { return unitIn(agent, "box", v1::UNIT_STATE_RUNNING); }),
                    agent.log());
    CHECK(pollUntil([&] { return !processAlive(left_pid); }));
    CHECK(pollUntil([&] { return runcContainers(stateRoot(dir)).size() == 1; }));
    REQUIRE(::kill(agent.process().pid(), SIGTERM) == 0);
    REQUIRE(agent.process().waitExit());
    CHECK(agent.process().exitCode() == 0);
  }
  CHECK(runcContainers(stateRoot(dir)).empty());
}

TEST_CASE("container: with cgroups on, the container runs in a child of its unit's cgroup") {
  if (!std::filesystem::exists("/sys/fs/cgroup/memory/memory.limit_in_bytes")) {
    MESSAGE("no cgroup v1 memory controller on this host: skipped");
    return;
  }
  TempDir dir;
  const std::string rootfs = makeBusyboxRootfs(dir.file("rootfs"));
  const std::string config = dir.file("vigie.yaml");
  const std::string parent = "vigie-test-containers-" + std::to_string(::getpid());
  writeFile(config, "workloads:\n" + containerUnit("box", rootfs, "[/bin/sleep, \"1000\"]",
                                                   "    stop: {timeout: 1s}\n"
                                                   "    resources: {memory_max: 64MiB}\n",
                                                   "      init: true\n"));
  std::vector<std::string> args;
  for (const std::string& arg : daemonArgs(dir, config)) {
    args.push_back(arg == "off" ? "on" : arg);  // --cgroups off -> on
  }
  args.insert(args.end(), {"--cgroup-parent", parent});
  {
    ApiAgent agent(dir, config, args);
    REQUIRE_MESSAGE(pollUntil([&] { return unitIn(agent, "box", v1::UNIT_STATE_RUNNING); }),
                    agent.log());
    const pid_t pid = agent.instance("box", 1)->pid();
    const std::string cgroups = readFile("/proc/" + std::to_string(pid) + "/cgroup");
    INFO(cgroups);
    // "N:memory:/.../<parent>/box/box-<nonce>-1": the unit's memory limit holds above it.
    std::string memory_line;
    for (const std::string& line : linesContaining(cgroups, ":memory:")) {
      memory_line = line;
    }
    CHECK(contains(memory_line, "/" + parent + "/box/box-"));
    const std::string memory_dir =
        "/sys/fs/cgroup/memory" + memory_line.substr(memory_line.find(":/") + 1);
    const std::string unit_dir = memory_dir.substr(0, memory_dir.rfind('/'));
    CHECK(readFile(unit_dir + "/memory.limit_in_bytes") == "67108864\n");
    REQUIRE(::kill(agent.process().pid(), SIGTERM) == 0);
    REQUIRE(agent.process().waitExit());
    CHECK_FALSE(std::filesystem::exists(unit_dir));
  }
  CHECK(runcContainers(stateRoot(dir)).empty());
}

}  // namespace
}  // namespace vigie::testing
