// Units' cgroups on this host, with a real vigied (as root): a memory hog OOM-killed and labelled
// so (and a later clean exit not), pids_max enforced, a stop that leaves no daemonized
// grandchild (with cgroup.kill, and with the v1 freezer loop), children started inside their
// cgroup, limits changed in place, and cgroups removed when a unit goes and at shutdown.
//
// Each test has a cgroup parent of its own, and a guard that kills and removes whatever is left
// under it, even when the test fails half-way.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/cgroup/cgroup_files.h"
#include "agent/cgroup/layout.h"
#include "agent/event/event_loop.h"
#include "agent/os/linux_spawner.h"
#include "tests/integration/api_calls.h"
#include "tests/integration/harness.h"
#include "tests/integration/metrics_scrape.h"
#include "tests/integration/text_checks.h"
#include "vigie/v1/agent.grpc.pb.h"

namespace vigie::testing {
namespace {

constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

std::string workloadPath() {
  return std::string(VIGIE_HELPERS_DIR) + "/cgroup_workload";
}

bool isDirectory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Where this host keeps cgroups, and where a parent of ours lands in each hierarchy: under the
// test process's own cgroup there, as under vigied's (vigied is our child).
class CgroupHost {
 public:
  CgroupHost() {
    layout = detectCgroupLayout(kCgroupRoot);
    auto own = readProcCgroups();
    if (own) {
      own_ = *own;
    }
  }

  bool usable() const { return ::geteuid() == 0 && layout != CgroupLayout::kNone; }

  // The directory of `path` (relative to our own cgroup) in a v1 controller's hierarchy.
  std::string v1Dir(const std::string& controller, const std::string& path) const {
    auto own = own_.v1.find(controller);
    return std::string(kCgroupRoot) + "/" + controller +
           joinCgroupPath(own == own_.v1.end() ? "/" : own->second, path);
  }
  // ... in the cgroup2 hierarchy ("" without one).
  std::string v2Dir(const std::string& path) const {
    if (layout == CgroupLayout::kUnified) {
      return std::string(kCgroupRoot) + joinCgroupPath(own_.unified, path);
    }
    if (layout == CgroupLayout::kHybrid) {
      return std::string(kCgroupRoot) + "/unified" + joinCgroupPath(own_.unified, path);
    }
    return "";
  }
  // Every directory `path` may have, in every hierarchy vigie uses.
  std::vector<std::string> dirs(const std::string& path) const {
    std::vector<std::string> out;
    if (layout == CgroupLayout::kLegacy || layout == CgroupLayout::kHybrid) {
      for (const char* controller : {"memory", "cpu", "cpuacct", "pids", "freezer"}) {
        out.push_back(v1Dir(controller, path));
      }
    }
    if (!v2Dir(path).empty()) {
      out.push_back(v2Dir(path));
    }
    return out;
  }

  CgroupLayout layout = CgroupLayout::kNone;

 private:
  ProcCgroups own_;
};

// Kills and removes whatever is left under a test's cgroup parent, in every hierarchy.
class CgroupGuard {
 public:
  CgroupGuard(const CgroupHost& host, std::string parent)
      : host_(host), parent_(std::move(parent)) {}
  ~CgroupGuard() {
    for (const std::string& base : host_.dirs(parent_)) {
      if (!isDirectory(base)) {
        continue;
      }
      std::vector<std::string> units;
      if (DIR* dir = ::opendir(base.c_str())) {
        while (dirent* entry = ::readdir(dir)) {
          const std::string name = entry->d_name;
          if (name != "." && name != ".." && isDirectory(base + "/" + name)) {
            units.push_back(base + "/" + name);
          }
        }
        ::closedir(dir);
      }
      for (const std::string& unit : units) {
        pollUntil([&] {
          for (pid_t pid : parsePids(readFile(unit + "/cgroup.procs"))) {
            ::kill(pid, SIGKILL);
          }
          return ::rmdir(unit.c_str()) == 0 || errno == ENOENT;
        });
      }
      ::rmdir(base.c_str());
    }
  }
  CgroupGuard(const CgroupGuard&) = delete;
  CgroupGuard& operator=(const CgroupGuard&) = delete;

 private:
  const CgroupHost& host_;
  std::string parent_;
};

// vigied with cgroups on under a parent of the test's own, and a gRPC client.
class CgroupAgent {
 public:
  CgroupAgent(const TempDir& dir, const std::string& config, const std::string& parent,
              bool legacy = false)
      : vigied(dir, options(dir, config, parent, legacy)) {
    stub_ = v1::Agent::NewStub(
        grpc::CreateChannel("unix:" + dir.file("vigie.sock"), grpc::InsecureChannelCredentials()));
    REQUIRE_MESSAGE(vigied.waitForLog("vigied started"), vigied.stderrText());
  }

  static DaemonProcess::Options options(const TempDir& dir, const std::string& config,
                                        const std::string& parent, bool legacy) {
    std::vector<std::string> args;
    const std::vector<std::string> standard = daemonArgs(dir, config);
    for (size_t i = 0; i < standard.size(); ++i) {
      if (standard[i] == "--cgroups") {
        ++i;  // the standard "off"
        continue;
      }
      args.push_back(standard[i]);
    }
    args.insert(args.end(),
                {"--cgroups", "on", "--cgroup-parent", parent, "--log-target", "stderr"});
    if (legacy) {
      args.emplace_back("--cgroup-legacy-for-test");
    }
    return {.args = args};
  }

  std::optional<v1::Unit> unit(const std::string& name) { return getUnit(*stub_, name); }
  std::optional<v1::NodeInfo> node() {
    v1::GetNodeResponse response;
    if (!stub_->GetNode(callContext().get(), {}, &response).ok()) {
      return std::nullopt;
    }
    return response.node();
  }
  bool inState(const std::string& name, v1::UnitState state) {
    const auto found = unit(name);
    return found && found->state() == state;
  }
  bool stop(const std::string& name) {
    v1::StopUnitRequest request;
    request.set_name(name);
    v1::StopUnitResponse response;
    return stub_->StopUnit(callContext().get(), request, &response).ok();
  }

  DaemonProcess vigied;

 private:
  std::unique_ptr<v1::Agent::Stub> stub_;
};

// A parent name of the test's own: "vigie-cgtest-<temp dir suffix>".
std::string parentFor(const TempDir& dir) {
  return "vigie-cgtest-" + std::filesystem::path(dir.path()).filename().string();
}

std::string unitYaml(const std::string& name, const std::vector<std::string>& args,
                     const std::string& extra) {
  std::string exec = "[\"" + workloadPath() + "\"";
  for (const std::string& arg : args) {
    exec += ", \"" + arg + "\"";
  }
  return "  - name: " + name + "\n    exec: " + exec + "]\n" + extra;
}

#define REQUIRE_CGROUP_HOST(host)                                               \
  do {                                                                          \
    if (!(host).usable()) {                                                     \
      MESSAGE("skipped: needs root and a cgroup filesystem at /sys/fs/cgroup"); \
      return;                                                                   \
    }                                                                           \
  } while (false)

TEST_CASE("cgroups: the spawner starts a child in its cgroup, or has it join before exec") {
  CgroupHost host;
  REQUIRE_CGROUP_HOST(host);
  TempDir dir;
  const std::string path = parentFor(dir);
  const std::string cgroup2 = host.v2Dir(path);
  if (cgroup2.empty()) {
    MESSAGE("skipped: no cgroup2 hierarchy on this host");
    return;
  }
  CgroupGuard guard(host, path);  // removes the directory, and whatever is left in it.
  REQUIRE(::mkdir(cgroup2.c_str(), 0755) == 0);
  UniqueFd dir_fd(::open(cgroup2.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  UniqueFd procs_fd(::open((cgroup2 + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
  REQUIRE(dir_fd.valid());
  REQUIRE(procs_fd.valid());
  auto loop = EventLoop::create();
  REQUIRE(loop.ok());
  auto spawner = LinuxProcessSpawner::create(**loop);
  REQUIRE(spawner.ok());
  const std::string expected = joinCgroupPath(readProcCgroups()->unified, path);

  auto runIn = [&](const CgroupPlacement& placement, const std::string& file) {
    SpawnSpec spec;
    spec.argv = {workloadPath(), "cgroup", file};
    spec.cgroup = placement;
    bool ended = false;
    auto process = (*spawner)->spawn(spec, [&](const ExitStatus&) { ended = true; });
    REQUIRE_MESSAGE(process.ok(), (process.ok() ? "" : process.error().message));
    REQUIRE(runUntil(**loop, [&] { return ended; }));
    return parseProcCgroups(readFile(file)).unified;
  };
  // clone3(CLONE_INTO_CGROUP): born there.
  CgroupPlacement into;
  into.cgroup2_dir_fd = dir_fd.get();
  into.cgroup2_procs_fd = procs_fd.get();
  CHECK(runIn(into, dir.file("clone3")) == expected);
  // The v1 way: the child writes "0" into cgroup.procs before exec.
  CgroupPlacement joined;
  joined.v1_procs_fds = {procs_fd.get()};
  CHECK(runIn(joined, dir.file("joined")) == expected);

  // A cgroup the child cannot join is a spawn error, and nothing runs.
  UniqueFd read_only(::open((cgroup2 + "/cgroup.procs").c_str(), O_RDONLY | O_CLOEXEC));
  CgroupPlacement broken;
  broken.v1_procs_fds = {read_only.get()};
  SpawnSpec spec;
  spec.argv = {workloadPath(), "cgroup", dir.file("broken")};
  spec.cgroup = broken;
  auto refused = (*spawner)->spawn(spec, [](const ExitStatus&) {});
  REQUIRE_FALSE(refused.ok());
  CHECK(contains(refused.error().message, "join cgroup"));
  CHECK(readFile(dir.file("broken")).empty());
}

TEST_CASE(
    "cgroups: the OOM killer's kill is oom-killed and counted, and a later clean exit is not") {
  CgroupHost host;
  REQUIRE_CGROUP_HOST(host);
  TempDir dir;
  const std::string parent = parentFor(dir);
  CgroupGuard guard(host, parent);
  writeFile(dir.file("vigie.yaml"),
            "workloads:\n" + unitYaml("hog", {"hog-once", dir.file("hogged"), "512"},
                                      "    resources: {memory_max: 32MiB}\n"
                                      "    restart: {policy: on-failure}\n"));
  CgroupAgent agent(dir, dir.file("vigie.yaml"), parent);
  const uint16_t port = metricsPort(agent.vigied);
  REQUIRE_MESSAGE(pollUntil([&] { return agent.inState("hog", v1::UNIT_STATE_EXITED); }),
                  agent.vigied.stderrText());
  const v1::Unit unit = *agent.unit("hog");
  REQUIRE(unit.instances_size() == 2);

  const v1::ExitDetails& hogged = unit.instances(0).exit();
  CHECK(hogged.kind() == v1::EXIT_KIND_KILLED);
  CHECK(hogged.signal() == SIGKILL);
  CHECK(hogged.reason() == v1::EXIT_REASON_OOM_KILLED);
  CHECK(hogged.description() == "signal SIGKILL (oom-killed)");
  REQUIRE(hogged.has_cgroup());
  CHECK(hogged.cgroup().oom_kills() >= 1);
  REQUIRE(hogged.cgroup().has_memory_peak_bytes());
  CHECK(hogged.cgroup().memory_peak_bytes() > uint64_t{16} << 20);
  CHECK(hogged.cgroup().memory_peak_bytes() <= uint64_t{32} << 20);

  // The cgroup's own count still shows the kill; this instance saw none.
  const v1::ExitDetails& clean = unit.instances(1).exit();
  CHECK(clean.kind() == v1::EXIT_KIND_EXITED);
  CHECK(clean.code() == 0);
  CHECK(clean.reason() == v1::EXIT_REASON_UNSPECIFIED);
  REQUIRE(clean.has_cgroup());
  CHECK(clean.cgroup().has_oom_kills());
  CHECK(clean.cgroup().oom_kills() == 0);
  CHECK(contains(agent.vigied.stderrText(), "hog: instance 1 ended (signal SIGKILL (oom-killed)"));

  // /metrics: one OOM kill, and the clean exit after it (counted as a success) added none.
  std::string metrics;
  REQUIRE_MESSAGE(pollUntil([&] {
                    metrics = scrape(port);
                    return valueOr(metrics,
                                   R"(vigie_unit_exits_total{reason="success",unit="hog"})") == 1;
                  }),
                  metrics);
  CHECK(valueOr(metrics, R"(vigie_unit_oom_kills_total{unit="hog"})") == 1);
  CHECK(valueOr(metrics, R"(vigie_unit_exits_total{reason="killed",unit="hog"})") == 1);
}

TEST_CASE("cgroups: pids_max is enforced: fork fails past it") {
  CgroupHost host;
  REQUIRE_CGROUP_HOST(host);
  TempDir dir;
  const std::string parent = parentFor(dir);
  CgroupGuard guard(host, parent);
  writeFile(dir.file("vigie.yaml"),
            "workloads:\n" + unitYaml("forker", {"forks", "20", dir.file("forked")},
                                      "    resources: {pids_max: 5}\n"));
  CgroupAgent agent(dir, dir.file("vigie.yaml"), parent);
  REQUIRE_MESSAGE(pollUntil([&] { return !readFile(dir.file("forked")).empty(); }),
                  agent.vigied.stderrText());
  // The workload itself and 4 children: the 5th fork is refused.
  CHECK(readFile(dir.file("forked")) == "forked 4 errno " + std::to_string(EAGAIN) + "\n");
  CHECK(agent.stop("forker"));
  CHECK(pollUntil([&] { return agent.inState("forker", v1::UNIT_STATE_STOPPED); }));
}

void checkStopLeavesNoGrandchildren(bool legacy) {
  CgroupHost host;
  REQUIRE_CGROUP_HOST(host);
  if (legacy && host.layout == CgroupLayout::kUnified) {
    MESSAGE("skipped: no v1 hierarchies on this host");
    return;
  }
  TempDir dir;
  const std::string parent = parentFor(dir);
  CgroupGuard guard(host, parent);
  writeFile(dir.file("vigie.yaml"),
            "workloads:\n" + unitYaml("daemon", {"daemonize", "3", dir.file("grandchildren")},
                                      "    stop: {timeout: 30s}\n"));
  CgroupAgent agent(dir, dir.file("vigie.yaml"), parent, legacy);
  REQUIRE_MESSAGE(pollUntil([&] { return readPids(dir.file("grandchildren")).size() == 3; }),
                  agent.vigied.stderrText());
  const std::vector<pid_t> grandchildren = readPids(dir.file("grandchildren"));
  for (pid_t pid : grandchildren) {
    registerForCrashCleanup(pid);
    REQUIRE(processAlive(pid));
  }
  REQUIRE(agent.stop("daemon"));
  REQUIRE_MESSAGE(pollUntil([&] { return agent.inState("daemon", v1::UNIT_STATE_STOPPED); }),
                  agent.vigied.stderrText());
  // Stopped means the cgroup is empty: none of them is left, not even for a moment.
  for (pid_t pid : grandchildren) {
    CHECK_MESSAGE(!processAlive(pid), "grandchild ", pid, " survived the stop: state ",
                  processState(pid).value_or('?'), "\n", agent.vigied.stderrText());
  }
  // The first SIGTERM went to the main process only; the grandchildren ignore it and left the
  // process group, so only the cgroup reached them.
  CHECK(contains(agent.vigied.stderrText(), "daemon: instance 1 ended (signal SIGTERM"));
}

TEST_CASE("cgroups: a stop leaves no daemonized grandchild (cgroup.kill)") {
  checkStopLeavesNoGrandchildren(/*legacy=*/false);
}

TEST_CASE("cgroups: a stop leaves no daemonized grandchild (v1 freezer and kill loop)") {
  checkStopLeavesNoGrandchildren(/*legacy=*/true);
}

TEST_CASE("cgroups: a workload starts inside its cgroup, in every hierarchy") {
  CgroupHost host;
  REQUIRE_CGROUP_HOST(host);
  TempDir dir;
  const std::string parent = parentFor(dir);
  CgroupGuard guard(host, parent);
  writeFile(dir.file("vigie.yaml"),
            "workloads:\n" + unitYaml("where", {"cgroup", dir.file("cgroup")},
                                      "    restart: {policy: never}\n"));
  CgroupAgent agent(dir, dir.file("vigie.yaml"), parent);
  REQUIRE_MESSAGE(pollUntil([&] { return !readFile(dir.file("cgroup")).empty(); }),
                  agent.vigied.stderrText());
  const ProcCgroups seen = parseProcCgroups(readFile(dir.file("cgroup")));
  const ProcCgroups own = *readProcCgroups();
  const std::string suffix = "/" + parent + "/where";
  if (host.layout != CgroupLayout::kLegacy) {
    CHECK(seen.unified == joinCgroupPath(own.unified, parent + "/where"));
  }
  if (host.layout != CgroupLayout::kUnified) {
    for (const char* controller : {"memory", "cpu", "pids"}) {
      CHECK_MESSAGE(
          seen.v1.at(controller) == joinCgroupPath(own.v1.at(controller), parent) + "/where",
          controller);
    }
  }
  const auto node = agent.node();
  REQUIRE(node.has_value());
  CHECK(contains(node->unit_cgroups(), parent));
}

TEST_CASE("cgroups: limits change in place on reload, and CPU time is per instance") {
  CgroupHost host;
  REQUIRE_CGROUP_HOST(host);
  TempDir dir;
  const std::string parent = parentFor(dir);
  CgroupGuard guard(host, parent);
  const std::string config = dir.file("vigie.yaml");
  auto write = [&](const std::string& memory) {
    writeFile(config,
              "workloads:\n" +
                  unitYaml("busy", {"forks", "1", dir.file("forked")},
                           "    resources: {memory_max: " + memory + ", cpu_weight: 50}\n") +
                  unitYaml("burner", {"burn", "300"}, "    restart: {policy: never}\n"));
  };
  write("64MiB");
  CgroupAgent agent(dir, config, parent);
  REQUIRE(pollUntil([&] { return agent.inState("busy", v1::UNIT_STATE_RUNNING); }));
  const int pid = agent.unit("busy")->pid();
  const std::string limit = host.layout == CgroupLayout::kUnified
                                ? host.v2Dir(parent + "/busy") + "/memory.max"
                                : host.v1Dir("memory", parent + "/busy") + "/memory.limit_in_bytes";
  CHECK(readFile(limit) == "67108864\n");
  if (host.layout != CgroupLayout::kUnified) {
    CHECK(readFile(host.v1Dir("cpu", parent + "/busy") + "/cpu.shares") == "512\n");
  }

  write("128MiB");
  REQUIRE(::kill(agent.vigied.pid(), SIGHUP) == 0);
  REQUIRE_MESSAGE(agent.vigied.waitForLog("1 updated in place"), agent.vigied.stderrText());
  CHECK(readFile(limit) == "134217728\n");
  CHECK(agent.unit("busy")->pid() == pid);  // not restarted.

  REQUIRE(pollUntil([&] { return agent.inState("burner", v1::UNIT_STATE_EXITED); }));
  const v1::ExitDetails burned = agent.unit("burner")->instances(0).exit();
  REQUIRE(burned.cgroup().has_cpu_time());
  CHECK(burned.cgroup().cpu_time().seconds() * 1000 +
            burned.cgroup().cpu_time().nanos() / 1000000 >=
        250);
}

TEST_CASE("cgroups: a unit's cgroup goes with the unit, and the rest at shutdown") {
  CgroupHost host;
  REQUIRE_CGROUP_HOST(host);
  TempDir dir;
  const std::string parent = parentFor(dir);
  CgroupGuard guard(host, parent);
  const std::string config = dir.file("vigie.yaml");
  const std::string kept = unitYaml("kept", {"forks", "0", dir.file("kept")}, "");
  const std::string gone = unitYaml("gone", {"daemonize", "1", dir.file("gone")}, "");
  writeFile(config, "workloads:\n" + kept + gone);
  CgroupAgent agent(dir, config, parent);
  REQUIRE(pollUntil([&] {
    return agent.inState("kept", v1::UNIT_STATE_RUNNING) && readPids(dir.file("gone")).size() == 1;
  }));
  for (const std::string& unit_dir : host.dirs(parent + "/gone")) {
    if (contains(unit_dir, "/cpuacct/") || contains(unit_dir, "/freezer/")) {
      continue;  // only legacy hosts use these.
    }
    CHECK_MESSAGE(isDirectory(unit_dir), unit_dir);
  }

  writeFile(config, "workloads:\n" + kept);
  REQUIRE(::kill(agent.vigied.pid(), SIGHUP) == 0);
  REQUIRE_MESSAGE(agent.vigied.waitForLog("1 removed"), agent.vigied.stderrText());
  CHECK(pollUntil([&] {
    for (const std::string& unit_dir : host.dirs(parent + "/gone")) {
      if (isDirectory(unit_dir)) {
        return false;
      }
    }
    return true;
  }));
  CHECK_FALSE(processAlive(readPids(dir.file("gone")).front()));
  CHECK(isDirectory(host.dirs(parent + "/kept").front()));

  REQUIRE(::kill(agent.vigied.pid(), SIGTERM) == 0);
  REQUIRE(agent.vigied.waitExit());
  CHECK(agent.vigied.exitCode() == 0);
  for (const std::string& base : host.dirs(parent)) {
    CHECK_MESSAGE(!isDirectory(base), base, " is left after shutdown");
  }
}

}  // namespace
}  // namespace vigie::testing
