// The container driver over a fake spawner: the runtime's command line, the adoption of the
// container's process once the runtime exits, runtime failures told apart from workload exits,
// signals held while the container is created, and the deletion after every end.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include "agent/runtime/container_runtimes.h"
#include "agent/runtime/container_spawner.h"
#include "tests/fakes/fake_dispatcher.h"
#include "tests/fakes/fake_spawner.h"
#include "tests/fakes/temp_dir.h"

namespace vigie::testing {
namespace {

struct Fixture {
  Fixture() : spawner(dispatcher), containers(spawner, "n0") {
    launch.runtime = "/usr/sbin/runc";
    launch.state_root = dir.path() + "/runtime";
    launch.bundle = dir.path() + "/bundle";
    launch.work_dir = dir.path();
    launch.name = "web";
    spec.container = launch;
    spec.env = {"HOME=/root", "NOTIFY_SOCKET=/run/vigie/notify", "WATCHDOG_USEC=1000000"};
  }

  // Starts the container; the fake runtime is spawner.latest.
  ProcessPtr start() {
    auto process = containers.spawn(spec, [this](const ExitStatus& status) { ended = status; });
    REQUIRE(process.ok());
    (*process)->onRunning([this] { ++running; });
    return std::move(*process);
  }

  std::string pidFile(int serial) const {
    return dir.path() + "/web-n0-" + std::to_string(serial) + ".pid";
  }

  FakeDispatcher dispatcher;
  FakeSpawner spawner;
  ContainerSpawner containers;
  TempDir dir;
  ContainerLaunch launch;
  SpawnSpec spec;
  std::optional<ExitStatus> ended;
  int running = 0;
};

bool hasPair(const std::vector<std::string>& argv, const std::string& flag,
             const std::string& value) {
  auto it = std::find(argv.begin(), argv.end(), flag);
  return it != argv.end() && std::next(it) != argv.end() && *std::next(it) == value;
}

TEST_CASE("container spawner: runs the runtime detached, then adopts the container's process") {
  Fixture f;
  ProcessPtr process = f.start();
  const std::vector<std::string>& argv = f.spawner.last_spec->argv;
  CHECK(argv.front() == "/usr/sbin/runc");
  CHECK(hasPair(argv, "--root", f.launch.state_root));
  CHECK(hasPair(argv, "--pid-file", f.pidFile(1)));
  CHECK(hasPair(argv, "--bundle", f.launch.bundle));
  CHECK(hasPair(argv, "--log-format", "json"));
  CHECK(std::find(argv.begin(), argv.end(), "--detach") != argv.end());
  CHECK(argv.back() == "web-n0-1");
  // sd_notify goes through the container's config, never the runtime's environment.
  CHECK(f.spawner.last_spec->env == std::vector<std::string>{"HOME=/root"});
  CHECK(process->launching());
  const pid_t runtime_pid = process->pid();

  // Held until the container runs: the runtime itself must not get the workload's signals.
  process->signalGroup(SIGTERM).ok();
  CHECK(f.spawner.latest->group_signals.empty());

  // The runtime wrote the pid and exited 0; the container's process was re-parented to us.
  f.dir.write("web-n0-1.pid", "4242");
  CHECK(f.containers.isTracked(4242));  // the orphan reaper must leave it to us.
  f.spawner.exitLatestWithCode(0);
  CHECK(f.spawner.adopt_calls == 1);
  CHECK(f.running == 1);
  CHECK_FALSE(process->launching());
  CHECK(process->pid() == 4242);
  CHECK(process->pid() != runtime_pid);
  FakeProcess* container = f.spawner.latest;
  CHECK(container->group_signals == std::vector<int>{SIGTERM});
  CHECK_FALSE(f.ended);
  CHECK_FALSE(std::filesystem::exists(f.pidFile(1)));

  // The workload's own status, never the runtime's; then the container is deleted.
  f.spawner.killLatest(SIGSEGV, /*core=*/true);
  REQUIRE(f.ended);
  CHECK(f.ended->kind == ExitStatus::Kind::kDumped);
  CHECK(f.ended->signal == SIGSEGV);
  CHECK(f.ended->runtime_error.empty());
  CHECK(process->exited());
  REQUIRE(f.containers.pendingDeletes() == 1);
  const std::vector<std::string> remove = f.spawner.last_spec->argv;
  CHECK(remove == std::vector<std::string>{"/usr/sbin/runc", "--root", f.launch.state_root,
                                           "delete", "--force", "web-n0-1"});
  bool idle = false;
  f.containers.whenIdle([&] { idle = true; });
  CHECK_FALSE(idle);
  f.spawner.exitLatestWithCode(0);
  CHECK(idle);
  CHECK(f.containers.pendingDeletes() == 0);
}

TEST_CASE("container spawner: a runtime error is reported as such, with the runtime's message") {
  Fixture f;
  ProcessPtr process = f.start();
  f.dir.write("web-n0-1.log",
              "{\"level\":\"warning\",\"msg\":\"something minor\"}\n"
              "{\"level\":\"error\",\"msg\":\"runc run failed: invalid rootfs: stat /nope: no "
              "such file or directory\",\"time\":\"2026-11-29T15:47:06Z\"}\n");
  f.spawner.exitLatestWithCode(1);
  REQUIRE(f.ended);
  CHECK(f.ended->runtime_error == "runc: invalid rootfs: stat /nope: no such file or directory");
  CHECK(f.running == 0);
  CHECK(f.spawner.adopt_calls == 0);
  CHECK(process->exited());
  // Deleted anyway (a runtime killed half-way leaves state), and its log is gone.
  CHECK(f.containers.pendingDeletes() == 1);
  CHECK_FALSE(std::filesystem::exists(f.dir.path() + "/web-n0-1.log"));
}

TEST_CASE("container spawner: a runtime that dies without a log says how it ended") {
  Fixture f;
  ProcessPtr process = f.start();
  f.spawner.killLatest(SIGKILL);
  REQUIRE(f.ended);
  CHECK(f.ended->runtime_error == "runc: exited with signal SIGKILL");
}

TEST_CASE("container spawner: a runtime that exits 0 without a pid file is a runtime failure") {
  Fixture f;
  ProcessPtr process = f.start();
  f.spawner.exitLatestWithCode(0);
  REQUIRE(f.ended);
  CHECK(f.ended->runtime_error.find("wrote no pid") != std::string::npos);
  CHECK(f.running == 0);
}

TEST_CASE(
    "container spawner: an instance dropped while its container is created kills the "
    "runtime and deletes the container") {
  Fixture f;
  ProcessPtr process = f.start();
  const pid_t runtime = f.spawner.latest->pid();
  process.reset();  // the fake runtime goes with it: its signals are in the spawner's log.
  CHECK(f.spawner.signal_log == std::vector<std::pair<pid_t, int>>{{runtime, SIGKILL}});
  CHECK(f.containers.pendingDeletes() == 1);
  CHECK(f.spawner.last_spec->argv.back() == "web-n0-1");
  CHECK_FALSE(f.ended);
}

TEST_CASE("container spawner: a SIGKILL while the container is created kills a hung runtime") {
  Fixture f;
  ProcessPtr process = f.start();
  FakeProcess* runtime = f.spawner.latest;
  process->signalGroup(SIGTERM).ok();
  CHECK(runtime->signals.empty());  // held for the container
  process->signalGroup(SIGKILL).ok();
  CHECK(runtime->signals == std::vector<int>{SIGKILL});
  f.spawner.killLatest(SIGKILL);
  REQUIRE(f.ended);
  CHECK(f.ended->runtime_error == "runc: exited with signal SIGKILL");
  CHECK(f.containers.pendingDeletes() == 1);
}

TEST_CASE("container spawner: each instance gets its own container id") {
  Fixture f;
  ProcessPtr first = f.start();
  CHECK(f.spawner.last_spec->argv.back() == "web-n0-1");
  ProcessPtr second = f.start();
  CHECK(f.spawner.last_spec->argv.back() == "web-n0-2");
}

TEST_CASE("container spawner: specs without a container go to the inner spawner unchanged") {
  Fixture f;
  SpawnSpec plain;
  plain.argv = {"/bin/true"};
  auto process = f.containers.spawn(plain, [](const ExitStatus&) {});
  REQUIRE(process.ok());
  CHECK(f.spawner.last_spec->argv == plain.argv);
  CHECK_FALSE((*process)->launching());
}

TEST_CASE("container runtime: the choice follows the host's cgroup layout") {
  TempDir bin;
  const std::string runc = bin.write("runc", "#!/bin/sh\n", 0755);
  const std::string crun = bin.write("crun", "#!/bin/sh\n", 0755);
  CHECK(*chooseContainerRuntime("", CgroupLayout::kUnified, bin.path()) == runc);
  CHECK(*chooseContainerRuntime("crun", CgroupLayout::kUnified, bin.path()) == crun);
  CHECK(*chooseContainerRuntime(crun, CgroupLayout::kLegacy, "/nonexistent") == crun);
  // crun refuses a cgroup2 that holds controllers beside v1.
  auto refused = chooseContainerRuntime("crun", CgroupLayout::kHybrid, bin.path());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("hybrid") != std::string::npos);
  CHECK(refused.error().message.find("runtime: runc") != std::string::npos);

  std::filesystem::remove(runc);
  CHECK(*chooseContainerRuntime("", CgroupLayout::kUnified, bin.path()) == crun);
  auto none = chooseContainerRuntime("", CgroupLayout::kHybrid, bin.path());
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message ==
        "no container runtime works on this hybrid cgroup host: install runc");
  auto missing = chooseContainerRuntime("runc", CgroupLayout::kUnified, bin.path());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("not found") != std::string::npos);
}

TEST_CASE("container runtime: the last error of a runtime's JSON log") {
  CHECK(lastRuntimeError("") == "");
  CHECK(lastRuntimeError("not json\n{\"level\":\"info\",\"msg\":\"x\"}\n") == "");
  CHECK(lastRuntimeError("{\"level\":\"error\",\"msg\":\"first\"}\n"
                         "{\"level\":\"error\",\"msg\":\"second\"}\n") == "second");
}

}  // namespace
}  // namespace vigie::testing
