// LinuxCgroupManager on a fake pure-v2 cgroupfs: a temp dir laid out like /sys/fs/cgroup, whose
// interface files the test reads and writes in the kernel's place. Real files, a real event loop
// (inotify reports the test's writes to cgroup.events as it would the kernel's).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "agent/cgroup/linux_cgroup_manager.h"
#include "agent/event/event_loop.h"
#include "tests/fakes/temp_dir.h"

namespace vigie {
namespace {

using testing::TempDir;

std::string readText(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void writeText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

// The tree: <root>/cgroup.{controllers,subtree_control}, the units' parent "vigie" and, per
// unit, the files the kernel shows in a unit's cgroup.
class FakeCgroup2 {
 public:
  FakeCgroup2() {
    writeText(dir_.path() + "/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma\n");
    writeText(dir_.path() + "/cgroup.subtree_control", "");
    std::filesystem::create_directory(dir_.path() + "/vigie");
    writeText(dir_.path() + "/vigie/cgroup.controllers", "cpu memory pids\n");
    writeText(dir_.path() + "/vigie/cgroup.subtree_control", "");
    writeText(dir_.path() + "/self.cgroup", "0::/\n");
  }

  const std::string& root() const { return dir_.path(); }
  std::string unitDir(const std::string& unit) const { return dir_.path() + "/vigie/" + unit; }
  std::string file(const std::string& unit, const std::string& name) const {
    return unitDir(unit) + "/" + name;
  }
  std::string read(const std::string& unit, const std::string& name) const {
    return readText(file(unit, name));
  }
  void write(const std::string& unit, const std::string& name, const std::string& text) const {
    writeText(file(unit, name), text);
  }

  void addUnit(const std::string& unit, const std::string& controllers = "cpu memory pids") const {
    std::filesystem::create_directory(unitDir(unit));
    write(unit, "cgroup.controllers", controllers + "\n");
    write(unit, "cgroup.procs", "");
    write(unit, "cgroup.events", "populated 0\nfrozen 0\n");
    write(unit, "cgroup.kill", "");
    write(unit, "cgroup.freeze", "0\n");
    write(unit, "memory.max", "max\n");
    write(unit, "memory.high", "max\n");
    write(unit, "memory.peak", "0\n");
    write(unit, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n");
    write(unit, "cpu.weight", "100\n");
    write(unit, "cpu.max", "max 100000\n");
    write(unit, "cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");
    write(unit, "pids.max", "max\n");
  }

  CgroupManagerOptions options(std::vector<std::string>* warnings) const {
    CgroupManagerOptions options;
    options.root = dir_.path();
    options.parent = "vigie";
    options.proc_self_cgroup = dir_.path() + "/self.cgroup";
    options.layout = CgroupLayout::kUnified;
    options.warn = [warnings](const std::string& text) { warnings->push_back(text); };
    return options;
  }

 private:
  TempDir dir_{"vigie-cgroup2"};
};

struct Fixture {
  Fixture() {
    auto created = EventLoop::create();
    REQUIRE(created.ok());
    loop = std::move(*created);
  }

  std::unique_ptr<LinuxCgroupManager> manager() {
    auto created = LinuxCgroupManager::create(*loop, tree.options(&warnings));
    REQUIRE_MESSAGE(created.ok(), (created.ok() ? "" : created.error().message));
    return std::move(*created);
  }

  // Turns the loop until `done` holds, or 5 s pass.
  bool runUntil(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      loop->runOnce(std::chrono::milliseconds(50));
    }
    return done();
  }

  FakeCgroup2 tree;
  std::unique_ptr<EventLoop> loop;
  std::vector<std::string> warnings;
};

ResourcesSpec everyLimit() {
  ResourcesSpec resources;
  resources.memory_max = uint64_t{64} << 20;
  resources.memory_high = uint64_t{48} << 20;
  resources.cpu_weight = 200;
  resources.cpu_max = CpuMaxSpec{50ms, 100ms};
  resources.pids_max = 32;
  return resources;
}

TEST_CASE("cgroup v2 fake tree: a unit's limits are written to its files") {
  Fixture f;
  f.tree.addUnit("web");
  auto manager = f.manager();
  CHECK(manager->layout() == CgroupLayout::kUnified);
  CHECK(manager->unifiedParent() == "/vigie");
  auto cgroup = manager->createUnit("web", everyLimit());
  REQUIRE_MESSAGE(cgroup.ok(), (cgroup.ok() ? "" : cgroup.error().message));
  REQUIRE(*cgroup != nullptr);
  CHECK(f.tree.read("web", "memory.max") == "67108864");
  CHECK(f.tree.read("web", "memory.high") == "50331648");
  CHECK(f.tree.read("web", "cpu.weight") == "200");
  CHECK(f.tree.read("web", "cpu.max") == "50000 100000");
  CHECK(f.tree.read("web", "pids.max") == "32");
  // The controllers were handed down from vigied's cgroup (the root here) to the parent.
  CHECK(readText(f.tree.root() + "/cgroup.subtree_control").starts_with("+"));
  CHECK(readText(f.tree.root() + "/vigie/cgroup.subtree_control").starts_with("+"));

  const CgroupPlacement placement = (*cgroup)->placement();
  CHECK(placement.cgroup2_dir_fd >= 0);
  CHECK(placement.cgroup2_procs_fd >= 0);
  CHECK(placement.v1_procs_fds.empty());
  CHECK((*cgroup)->describe() == "0::/vigie/web");

  // In place: new limits, and a limit dropped from the spec goes back to "max".
  ResourcesSpec fewer;
  fewer.memory_max = uint64_t{128} << 20;
  REQUIRE((*cgroup)->apply(fewer).ok());
  CHECK(f.tree.read("web", "memory.max") == "134217728");
  CHECK(f.tree.read("web", "memory.high") == "max");
  CHECK(f.tree.read("web", "cpu.weight") == "100");
  CHECK(f.tree.read("web", "cpu.max") == "max");
  CHECK(f.tree.read("web", "pids.max") == "max");
  CHECK(f.warnings.empty());
}

TEST_CASE("cgroup v2 fake tree: a limit without its controller is an error, or a warning") {
  Fixture f;
  f.tree.addUnit("strict", "cpu memory");
  f.tree.addUnit("lenient", "cpu memory");
  auto manager = f.manager();
  ResourcesSpec resources;
  resources.pids_max = 10;
  resources.memory_max = uint64_t{1} << 30;
  auto strict = manager->createUnit("strict", resources);
  REQUIRE_FALSE(strict.ok());
  CHECK(strict.error().message ==
        "cannot enforce pids_max (pids controller) on this host's cgroups");
  CHECK(f.tree.read("strict", "memory.max") == "max\n");  // nothing written for a refused unit.

  resources.optional = true;
  auto lenient = manager->createUnit("lenient", resources);
  REQUIRE(lenient.ok());
  CHECK(f.tree.read("lenient", "memory.max") == "1073741824");
  CHECK(f.tree.read("lenient", "pids.max") == "max\n");
  REQUIRE(f.warnings.size() == 1);
  CHECK(f.warnings[0] ==
        "lenient: cannot enforce pids_max (pids controller) on this host's cgroups (optional: "
        "ignored)");
}

TEST_CASE(
    "cgroup v2 fake tree: stats are per instance, from memory.events, cpu.stat and memory.peak") {
  Fixture f;
  f.tree.addUnit("hog");
  auto manager = f.manager();
  auto cgroup = manager->createUnit("hog", ResourcesSpec{});
  REQUIRE(cgroup.ok());
  UnitCgroup& hog = **cgroup;

  // An earlier agent's, or an earlier instance's, OOM kill is already counted.
  f.tree.write("hog", "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  f.tree.write("hog", "cpu.stat", "usage_usec 1000\nuser_usec 800\nsystem_usec 200\n");
  hog.beginInstance();
  // The kernel: an OOM kill during the instance, CPU time used, the peak since the reset.
  f.tree.write("hog", "memory.events", "low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\n");
  f.tree.write("hog", "cpu.stat", "usage_usec 251000\nuser_usec 200000\nsystem_usec 51000\n");
  f.tree.write("hog", "memory.peak", "33554432\n");
  CgroupInstanceStats stats = hog.endInstance();
  CHECK(stats.oom_kills == std::optional<uint64_t>(1));
  CHECK(stats.cpu_time == std::optional<Duration>(250ms));
  CHECK(stats.memory_peak_bytes == std::optional<uint64_t>(33554432));

  // The next instance exits cleanly: the cgroup's count stays at 2, this instance's is 0.
  hog.beginInstance();
  CHECK(f.tree.read("hog", "memory.peak").starts_with("reset"));  // the peak is reset per instance.
  stats = hog.endInstance();
  CHECK(stats.oom_kills == std::optional<uint64_t>(0));
  CHECK(stats.cpu_time == std::optional<Duration>(0ns));
}

TEST_CASE("cgroup v2 fake tree: killAll uses cgroup.kill and waits for populated 0") {
  Fixture f;
  f.tree.addUnit("daemon");
  auto manager = f.manager();
  auto cgroup = manager->createUnit("daemon", ResourcesSpec{});
  REQUIRE(cgroup.ok());
  UnitCgroup& daemon = **cgroup;
  CHECK(daemon.startsWhileKilling());

  // Empty: done at once, and nobody is killed.
  bool emptied = false;
  daemon.killAll([&] { emptied = true; });
  CHECK(emptied);
  CHECK(f.tree.read("daemon", "cgroup.kill").empty());

  f.tree.write("daemon", "cgroup.events", "populated 1\nfrozen 0\n");
  emptied = false;
  daemon.killAll([&] { emptied = true; });
  CHECK(f.tree.read("daemon", "cgroup.kill") == "1");
  CHECK_FALSE(emptied);
  CHECK(daemon.killing());
  f.tree.write("daemon", "cgroup.events", "populated 0\nfrozen 0\n");  // the last one died.
  CHECK(f.runUntil([&] { return emptied; }));
  CHECK_FALSE(daemon.killing());
}

TEST_CASE("cgroup v2 fake tree: a previous agent's leftovers are killed when a unit takes over") {
  Fixture f;
  f.tree.addUnit("web");
  f.tree.write("web", "cgroup.events", "populated 1\nfrozen 0\n");
  auto manager = f.manager();
  auto cgroup = manager->createUnit("web", ResourcesSpec{});
  REQUIRE(cgroup.ok());
  CHECK(f.tree.read("web", "cgroup.kill") == "1");
  CHECK((*cgroup)->killing());
  REQUIRE(f.warnings.size() == 1);
  CHECK(f.warnings[0].find("left by a previous agent") != std::string::npos);
}

TEST_CASE("cgroup v2 fake tree: the units' parent is created under vigied's own cgroup") {
  Fixture f;
  writeText(f.tree.root() + "/self.cgroup", "0::/system.slice/vigie.service\n");
  const std::string service = f.tree.root() + "/system.slice/vigie.service";
  std::filesystem::create_directories(service);
  writeText(service + "/cgroup.controllers", "cpu memory pids\n");
  writeText(service + "/cgroup.subtree_control", "");
  auto manager = f.manager();
  CHECK(manager->unifiedParent() == "/system.slice/vigie.service/vigie");
  CHECK(std::filesystem::is_directory(service + "/vigie"));
  CHECK(readText(service + "/cgroup.subtree_control").starts_with("+"));
  manager.reset();
  CHECK_FALSE(std::filesystem::exists(service + "/vigie"));  // made by us, removed by us.
}

}  // namespace
}  // namespace vigie
