// The crash: section and the per-workload `core:` setting: defaults, accepted shapes, errors
// at their exact position, and RLIMIT_CORE in the spawn spec.
#include <doctest/doctest.h>
#include <sys/resource.h>

#include <algorithm>
#include <string>
#include <vector>

#include "agent/supervisor/spawn_spec.h"
#include "tests/fakes/config_strings.h"
#include "vigie/config.h"

namespace vigie {
namespace {

using testing::configOf;
using testing::errorsOf;

TEST_CASE("crash config: defaults without a crash section") {
  const AgentConfig config = configOf("workloads: []\n");
  CHECK(config.crash.core_pattern == CrashSpec::CorePattern::kInstall);
  CHECK(config.crash.helper == "/usr/libexec/vigie/vigie-coredump");
  CHECK(config.crash.helper_config == "/run/vigie/coredump.json");
  CHECK(config.crash.intake_socket == "/run/vigie/coredump.sock");
  CHECK_FALSE(config.crash.forward_previous);
  CHECK_FALSE(config.crash.reinstall_on_drift);
  CHECK(config.crash.retention.cores_per_fingerprint == 3);
}

TEST_CASE("crash config: every key of the section") {
  const AgentConfig config = configOf(
      "workloads: []\n"
      "crash:\n"
      "  core_pattern: leave\n"
      "  helper: /opt/vigie/vc\n"
      "  helper_config: /run/v/c.json\n"
      "  intake_socket: /run/v/i.sock\n"
      "  spool_dir: /var/spool/v\n"
      "  forward_previous: true\n"
      "  reinstall_on_drift: true\n"
      "  drift_check_interval: 5s\n"
      "  core_size_max: 64MiB\n"
      "  capture_timeout: 20s\n"
      "  report_timeout: 40s\n"
      "  redact_env: ['*PIN*']\n"
      "  redact_args: ['--pin=*']\n"
      "  rate_limit: {burst: 2, interval: 1m}\n"
      "  retention: {max_use: 10%, keep_free: 1GiB, max_age: 168h, cores_per_fingerprint: 2}\n");
  const CrashSpec& crash = config.crash;
  CHECK(crash.core_pattern == CrashSpec::CorePattern::kLeave);
  CHECK(crash.helper == "/opt/vigie/vc");
  CHECK(crash.helper_config == "/run/v/c.json");
  CHECK(crash.intake_socket == "/run/v/i.sock");
  CHECK(crash.spool_dir == "/var/spool/v");
  CHECK(crash.forward_previous);
  CHECK(crash.reinstall_on_drift);
  CHECK(crash.drift_check_interval == std::chrono::seconds(5));
  CHECK(crash.core_size_max == (uint64_t{64} << 20));
  CHECK(crash.capture_timeout == std::chrono::seconds(20));
  CHECK(crash.report_timeout == std::chrono::seconds(40));
  CHECK(crash.redact_env == std::vector<std::string>{"*PIN*"});
  CHECK(crash.redact_args == std::vector<std::string>{"--pin=*"});
  CHECK(crash.rate_burst == 2);
  CHECK(crash.rate_interval == std::chrono::minutes(1));
  REQUIRE(crash.retention.max_use_percent.has_value());
  CHECK(*crash.retention.max_use_percent == 10);
  CHECK(crash.retention.keep_free == (uint64_t{1} << 30));
  CHECK(crash.retention.max_age == std::chrono::hours(24 * 7));
  CHECK(crash.retention.cores_per_fingerprint == 2);
}

TEST_CASE("crash config: errors point at the value") {
  CHECK(errorsOf("crash:\n  core_pattern: replace\n") ==
        std::vector<std::string>{
            "vigie.yaml:2:17: crash.core_pattern: \"replace\" is not install or leave"});
  CHECK(errorsOf("crash:\n  helper: vigie-coredump\n") ==
        std::vector<std::string>{
            "vigie.yaml:2:11: crash.helper: \"vigie-coredump\" is not an absolute path"});
  const auto percent = errorsOf("crash:\n  retention: {max_use: 150%}\n");
  REQUIRE(percent.size() == 1);
  CHECK(percent[0] ==
        "vigie.yaml:2:24: crash.retention.max_use: \"150%\" is not a percentage from 1% to 100%");
  const auto unknown = errorsOf("crash:\n  core_patern: leave\n");
  REQUIRE(unknown.size() == 1);
  CHECK(unknown[0].rfind("vigie.yaml:2:3: ", 0) == 0);
  CHECK(unknown[0].find("core_pattern") != std::string::npos);
}

TEST_CASE("crash config: core: per workload, applied as RLIMIT_CORE") {
  const AgentConfig config = configOf(
      "workloads:\n"
      "  - {name: a, exec: [/bin/true]}\n"
      "  - {name: b, exec: [/bin/true], core: false}\n"
      "  - {name: c, exec: [/bin/true], core: false, rlimits: {core: 1024}}\n");
  REQUIRE(config.workloads.size() == 3);
  CHECK(config.workloads[0].core);
  CHECK_FALSE(config.workloads[1].core);
  auto coreLimits = [](const WorkloadSpec& spec) {
    auto spawn = makeSpawnSpec({}, spec);
    REQUIRE(spawn);
    std::vector<ResourceLimit> limits;
    std::copy_if(spawn->rlimits.begin(), spawn->rlimits.end(), std::back_inserter(limits),
                 [](const ResourceLimit& limit) { return limit.resource == RLIMIT_CORE; });
    return limits;
  };
  struct rlimit held {};
  ::getrlimit(RLIMIT_CORE, &held);
  auto on = coreLimits(config.workloads[0]);
  REQUIRE(on.size() == 1);
  CHECK(on[0].soft == held.rlim_max);
  auto off = coreLimits(config.workloads[1]);
  REQUIRE(off.size() == 1);
  CHECK(off[0].soft == 0);
  auto explicit_limit = coreLimits(config.workloads[2]);
  REQUIRE(explicit_limit.size() == 1);  // rlimits wins over core:
  CHECK(explicit_limit[0].soft == 1024);
  CHECK(processDefinitionDiffers(config.workloads[0], [&] {
    WorkloadSpec changed = config.workloads[0];
    changed.core = false;
    return changed;
  }()));
}

}  // namespace
}  // namespace vigie
