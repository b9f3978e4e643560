// The `cgroups:` section and a workload's `resources:`: values, defaults and errors with their
// positions.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/fakes/config_strings.h"
#include "tests/fakes/temp_dir.h"
#include "vigie/config.h"

namespace vigie {
namespace {

using testing::configOf;
using testing::errorsOf;

std::string withResources(const std::string& lines) {
  return "workloads:\n"
         "  - name: web\n"
         "    exec: [/bin/web]\n"
         "    resources:\n" +
         lines;
}

TEST_CASE("config cgroups: defaults, mode and parent") {
  const AgentConfig defaults = configOf("workloads: []\n");
  CHECK(defaults.cgroups.mode == CgroupsSpec::Mode::kAuto);
  CHECK(defaults.cgroups.parent == "vigie");
  const AgentConfig set = configOf("cgroups: {mode: on, parent: infra/vigie}\n");
  CHECK(set.cgroups.mode == CgroupsSpec::Mode::kOn);
  CHECK(set.cgroups.parent == "infra/vigie");
  CHECK(configOf("cgroups: {mode: off, parent: /vigie.slice}\n").cgroups.parent == "/vigie.slice");

  CHECK(errorsOf("cgroups: {mode: always}\n") ==
        std::vector<std::string>{
            "vigie.yaml:1:17: cgroups.mode: unknown mode \"always\" (expected auto, on or off)"});
  CHECK(errorsOf("cgroups: {parent: ../up}\n") ==
        std::vector<std::string>{"vigie.yaml:1:19: cgroups.parent: invalid cgroup parent "
                                 "\"../up\": empty, \".\" and \"..\" path components are not "
                                 "allowed"});
  CHECK(errorsOf("cgroups: {parent: /}\n").size() == 1);
  CHECK(errorsOf("cgroups: {parent: \"a b\"}\n").size() == 1);
  CHECK(errorsOf("cgroups: {parent: a/}\n").size() == 1);
  CHECK(errorsOf("cgroups: {parnt: x}\n") ==
        std::vector<std::string>{
            "vigie.yaml:1:11: unknown key \"parnt\" in cgroups (did you mean \"parent\"?)"});
}

TEST_CASE("config cgroups: only the main file may set cgroups") {
  testing::TempDir dir;
  const std::string drop_in = dir.write("extra.yaml", "cgroups: {parent: other}\n");
  const ConfigLoadResult result =
      loadConfigString("include: [\"" + drop_in + "\"]\n", dir.path() + "/vigie.yaml");
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].format() ==
        drop_in + ":1:1: \"cgroups\" is only allowed in the main config file");
}

TEST_CASE("config resources: every limit") {
  const AgentConfig config = configOf(withResources(R"(      memory_max: 256MiB
      memory_high: 200MiB
      cpu_weight: 50
      cpu_max: 250ms/100ms
      pids_max: 64
      optional: true
)"));
  const ResourcesSpec& r = config.workloads[0].resources;
  CHECK(r.memory_max == std::optional<uint64_t>(uint64_t{256} << 20));
  CHECK(r.memory_high == std::optional<uint64_t>(uint64_t{200} << 20));
  CHECK(r.cpu_weight == std::optional<uint32_t>(50));
  REQUIRE(r.cpu_max.has_value());
  CHECK(r.cpu_max->quota == 250ms);
  CHECK(r.cpu_max->period == 100ms);
  CHECK(r.pids_max == std::optional<uint64_t>(64));
  CHECK(r.optional);
  CHECK(r.anyLimit());
  CHECK_FALSE(configOf(withResources("      optional: true\n")).workloads[0].resources.anyLimit());
}

TEST_CASE("config resources: cpu_max forms") {
  auto cpuMax = [](const std::string& text) { return parseCpuMax(text); };
  REQUIRE(cpuMax("0.5").ok());
  CHECK(cpuMax("0.5")->value() == CpuMaxSpec{50ms, 100ms});
  CHECK(cpuMax("2")->value() == CpuMaxSpec{200ms, 100ms});
  CHECK(cpuMax("50ms")->value() == CpuMaxSpec{50ms, 100ms});
  CHECK(cpuMax("5ms/10ms")->value() == CpuMaxSpec{5ms, 10ms});
  CHECK_FALSE(cpuMax("max")->has_value());
  CHECK_FALSE(cpuMax("0").ok());
  CHECK_FALSE(cpuMax("half").ok());
  CHECK_FALSE(cpuMax("50ms/2s").ok());     // period above 1s
  CHECK_FALSE(cpuMax("500us/10ms").ok());  // quota below 1ms
  CHECK_FALSE(cpuMax("50ms/").ok());
  // In YAML a bare number is fine too.
  CHECK(configOf(withResources("      cpu_max: 1.5\n")).workloads[0].resources.cpu_max ==
        std::optional<CpuMaxSpec>(CpuMaxSpec{150ms, 100ms}));
}

TEST_CASE("config resources: errors point at the value") {
  CHECK(errorsOf(withResources("      memory_max: 64M\n")) ==
        std::vector<std::string>{
            "vigie.yaml:5:19: workloads[0].resources.memory_max: invalid size \"64M\": expected a "
            "whole number of bytes, optionally followed by B, KiB, MiB, GiB, kB, MB or GB"});
  CHECK(errorsOf(withResources("      memory_max: 0\n")) ==
        std::vector<std::string>{
            "vigie.yaml:5:19: workloads[0].resources.memory_max: must be greater than 0"});
  CHECK(errorsOf(withResources("      memory_max: 64MiB\n      memory_high: 128MiB\n")) ==
        std::vector<std::string>{"vigie.yaml:6:20: workloads[0].resources.memory_high: must not "
                                 "be greater than memory_max"});
  CHECK(errorsOf(withResources("      cpu_weight: 0\n")) ==
        std::vector<std::string>{"vigie.yaml:5:19: workloads[0].resources.cpu_weight: expected "
                                 "an integer between 1 and 10000, got \"0\""});
  CHECK(errorsOf(withResources("      pids_max: -1\n")).size() == 1);
  CHECK(errorsOf(withResources("      cpu_max: 2s/2s\n")) ==
        std::vector<std::string>{"vigie.yaml:5:16: workloads[0].resources.cpu_max: invalid "
                                 "cpu_max \"2s/2s\": the period must be between 1ms and 1s"});
  CHECK(errorsOf(withResources("      cpu_max: 2s/1s\n")).empty());  // two CPUs' worth.
  CHECK(errorsOf(withResources("      memory_maxx: 1GiB\n")) ==
        std::vector<std::string>{"vigie.yaml:5:7: unknown key \"memory_maxx\" in "
                                 "workloads[0].resources (did you mean \"memory_max\"?)"});
}

TEST_CASE("config resources: a change is not a new process definition") {
  const AgentConfig a = configOf(withResources("      memory_max: 64MiB\n"));
  const AgentConfig b = configOf(withResources("      memory_max: 128MiB\n"));
  CHECK_FALSE(processDefinitionDiffers(a.workloads[0], b.workloads[0]));
  CHECK(a.workloads[0].resources != b.workloads[0].resources);
}

}  // namespace
}  // namespace vigie
