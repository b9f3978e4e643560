// What `resources:` become in cgroupfs (v2 files and v1 controllers), which limits a host cannot
// enforce, and the parsers of the cgroup files vigie reads.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "agent/cgroup/cgroup_files.h"
#include "agent/cgroup/layout.h"
#include "agent/cgroup/limits.h"

namespace vigie {
namespace {

ResourcesSpec everyLimit() {
  ResourcesSpec resources;
  resources.memory_max = uint64_t{256} << 20;
  resources.memory_high = uint64_t{200} << 20;
  resources.cpu_weight = 50;
  resources.cpu_max = CpuMaxSpec{250ms, 100ms};
  resources.pids_max = 64;
  return resources;
}

TEST_CASE("cgroup limits: v2 files") {
  CHECK(v2LimitWrites(everyLimit()) == std::vector<CgroupWrite>{
                                           {"memory", "memory.high", "209715200"},
                                           {"memory", "memory.max", "268435456"},
                                           {"cpu", "cpu.weight", "50"},
                                           {"cpu", "cpu.max", "250000 100000"},
                                           {"pids", "pids.max", "64"},
                                       });
  // Unset limits are written as "no limit", so that a reload can lift them.
  CHECK(v2LimitWrites(ResourcesSpec{}) == std::vector<CgroupWrite>{
                                              {"memory", "memory.high", "max"},
                                              {"memory", "memory.max", "max"},
                                              {"cpu", "cpu.weight", "100"},
                                              {"cpu", "cpu.max", "max"},
                                              {"pids", "pids.max", "max"},
                                          });
}

TEST_CASE("cgroup limits: v1 controllers") {
  CHECK(v1LimitWrites(everyLimit()) == std::vector<CgroupWrite>{
                                           {"memory", "memory.soft_limit_in_bytes", "209715200"},
                                           {"memory", "memory.limit_in_bytes", "268435456"},
                                           {"cpu", "cpu.shares", "512"},
                                           {"cpu", "cpu.cfs_period_us", "100000"},
                                           {"cpu", "cpu.cfs_quota_us", "250000"},
                                           {"pids", "pids.max", "64"},
                                       });
  CHECK(v1LimitWrites(ResourcesSpec{}) == std::vector<CgroupWrite>{
                                              {"memory", "memory.soft_limit_in_bytes", "-1"},
                                              {"memory", "memory.limit_in_bytes", "-1"},
                                              {"cpu", "cpu.shares", "1024"},
                                              {"cpu", "cpu.cfs_period_us", "100000"},
                                              {"cpu", "cpu.cfs_quota_us", "-1"},
                                              {"pids", "pids.max", "max"},
                                          });
  CHECK(cpuSharesForWeight(100) == 1024);
  CHECK(cpuSharesForWeight(1) == 10);
  CHECK(cpuSharesForWeight(10000) == 102400);
}

TEST_CASE("cgroup limits: what a host without a controller cannot enforce") {
  const std::vector<MissingLimit> missing = missingLimits(everyLimit(), {"cpu"});
  REQUIRE(missing.size() == 3);
  CHECK(describeMissing(missing) ==
        "memory_max (memory controller), memory_high (memory controller), pids_max (pids "
        "controller)");
  CHECK(missingLimits(everyLimit(), {"cpu", "memory", "pids"}).empty());
  CHECK(missingLimits(ResourcesSpec{}, {}).empty());  // no limit needs nothing.
}

TEST_CASE("cgroup files: memory.events, memory.oom_control, cpu.stat, cgroup.procs") {
  const std::string events = "low 0\nhigh 12\nmax 40\noom 3\noom_kill 2\noom_group_kill 0\n";
  CHECK(parseKeyedValue(events, "oom_kill") == std::optional<uint64_t>(2));
  CHECK(parseKeyedValue(events, "oom") == std::optional<uint64_t>(3));
  CHECK_FALSE(parseKeyedValue(events, "oom_kil").has_value());
  const std::string oom_control = "oom_kill_disable 0\nunder_oom 0\noom_kill 7\n";
  CHECK(parseKeyedValue(oom_control, "oom_kill") == std::optional<uint64_t>(7));
  CHECK(parseKeyedValue("usage_usec 123456\nuser_usec 1\n", "usage_usec") ==
        std::optional<uint64_t>(123456));
  CHECK(parseKeyedValue("populated 1\nfrozen 0\n", "populated") == std::optional<uint64_t>(1));
  CHECK(parseSingleValue("9223372036854771712\n") == std::optional<uint64_t>(9223372036854771712u));
  CHECK_FALSE(parseSingleValue("max\n").has_value());
  CHECK(parsePids("12\n345\n6\n") == std::vector<pid_t>{12, 345, 6});
  CHECK(parsePids("").empty());
  CHECK(parseWords("cpuset cpu io memory pids\n") ==
        std::vector<std::string>{"cpuset", "cpu", "io", "memory", "pids"});
}

TEST_CASE("cgroup layout: /proc/self/cgroup on hybrid and unified hosts") {
  const ProcCgroups hybrid = parseProcCgroups(
      "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/x:y\n0::/\n");
  CHECK(hybrid.unified == "/");
  CHECK(hybrid.v1.at("memory") == "/process_api/abc");
  CHECK(hybrid.v1.at("pids") == "/");
  CHECK(hybrid.v1.at("cpu") == "/x:y");
  CHECK(hybrid.v1.at("cpuacct") == "/x:y");
  CHECK(hybrid.v1.at("name=systemd") == "/");
  const ProcCgroups unified = parseProcCgroups("0::/system.slice/vigie.service\n");
  CHECK(unified.unified == "/system.slice/vigie.service");
  CHECK(unified.v1.empty());

  CHECK(joinCgroupPath("/", "vigie") == "/vigie");
  CHECK(joinCgroupPath("/system.slice/vigie.service", "vigie") ==
        "/system.slice/vigie.service/vigie");
  CHECK(joinCgroupPath("/a/b", "/abs/vigie") == "/abs/vigie");
  CHECK(joinCgroupPath("/a/", "b/c") == "/a/b/c");
}

}  // namespace
}  // namespace vigie
