// vigie-coredump: its JSON config, with safe defaults when it is missing or broken.
#include <doctest/doctest.h>

#include "agent/coredump/helper_args.h"
#include "agent/coredump/helper_config.h"
#include "tests/fakes/temp_dir.h"

namespace vigie::coredump {
namespace {

using namespace std::chrono_literals;

TEST_CASE("coredump config: every field parses, snake_case and lowerCamelCase") {
  auto config = parseHelperConfig(R"({
    "spool_dir": "/s", "intakeSocket": "/i.sock", "core_size_max": 1048576,
    "capture_timeout": "2.5s", "redact_env": ["PIN"], "redact_args": ["-p"],
    "forward": "|/usr/lib/systemd/systemd-coredump %P %u %g %s %t %c %h",
    "rate_limit": {"burst": 2, "interval": "30s"}, "compression_level": 3,
    "from_a_newer_vigied": true})");
  REQUIRE_MESSAGE(config.ok(), (config.ok() ? "" : config.error().message));
  CHECK(config->spool_dir == "/s");
  CHECK(config->intake_socket == "/i.sock");
  CHECK(config->core_size_max == 1048576);
  CHECK(config->capture_timeout == 2500ms);
  CHECK(config->redact_env == std::vector<std::string>{"PIN"});
  CHECK(config->redact_args == std::vector<std::string>{"-p"});
  CHECK(config->forward.rfind("|/usr/lib/systemd/systemd-coredump", 0) == 0);
  CHECK(config->rate_burst == 2);
  CHECK(config->rate_interval == 30s);
  CHECK(config->compression_level == 3);
}

TEST_CASE("coredump config: an empty object means all defaults") {
  auto config = parseHelperConfig("{}");
  REQUIRE(config.ok());
  const HelperConfig defaults;
  CHECK(config->spool_dir == "/var/lib/vigie/crash/spool");
  CHECK(config->intake_socket == "/run/vigie/coredump.sock");
  CHECK(config->core_size_max == defaults.core_size_max);
  CHECK(config->capture_timeout == 60s);
  CHECK(config->redact_env.size() == 4);
  CHECK(config->forward.empty());
  CHECK(config->rate_burst == 5);
  CHECK(config->rate_burst == defaults.rate_burst);
}

TEST_CASE("coredump config: invalid values are errors") {
  CHECK_FALSE(parseHelperConfig("{").ok());
  CHECK_FALSE(parseHelperConfig(R"({"spool_dir": "relative"})").ok());
  CHECK_FALSE(parseHelperConfig(R"({"capture_timeout": "0s"})").ok());
  CHECK_FALSE(parseHelperConfig(R"({"capture_timeout": "soon"})").ok());
  CHECK_FALSE(parseHelperConfig(R"({"forward": "/no/pipe %P"})").ok());
  CHECK_FALSE(parseHelperConfig(R"({"forward": "|relative %P"})").ok());
  CHECK_FALSE(parseHelperConfig(R"({"compression_level": 40})").ok());
  CHECK_FALSE(parseHelperConfig(R"({"core_size_max": -1})").ok());
}

TEST_CASE("coredump config: a missing or broken file gives the defaults and says why") {
  testing::TempDir dir;
  const LoadedConfig missing = loadHelperConfig(dir.path() + "/absent.json");
  CHECK(missing.defaults_used);
  CHECK(missing.warning.find("absent.json") != std::string::npos);
  CHECK(missing.config.spool_dir == HelperConfig().spool_dir);

  const LoadedConfig broken = loadHelperConfig(dir.write("broken.json", "{\"spool_dir\": 3"));
  CHECK(broken.defaults_used);
  CHECK(broken.warning.find("using defaults") != std::string::npos);

  const LoadedConfig good = loadHelperConfig(dir.write("good.json", R"({"spool_dir": "/x"})"));
  CHECK_FALSE(good.defaults_used);
  CHECK(good.warning.empty());
  CHECK(good.config.spool_dir == "/x");
}

TEST_CASE("coredump args: the kernel's specifiers, -c, and garbage") {
  const char* full[] = {"vigie-coredump", "-c", "/t/c.json",  "1234",
                        "1240",           "11", "1795943377", "18446744073709551615",
                        "host-a"};
  HelperArgs args = parseHelperArgs(9, full);
  CHECK(args.errors.empty());
  CHECK(args.config_path == "/t/c.json");
  CHECK(args.pid == 1234);
  CHECK(args.tid == 1240);
  CHECK(args.signal == 11);
  CHECK(args.crash_time == 1795943377);
  CHECK(args.core_limit_known);
  CHECK_FALSE(args.core_limit.has_value());  // RLIM_INFINITY
  CHECK(args.hostname == "host-a");

  const char* zero[] = {"vigie-coredump", "7", "7", "6", "0", "0", "h"};
  args = parseHelperArgs(7, zero);
  CHECK(args.config_path == kDefaultConfigPath);
  REQUIRE(args.core_limit.has_value());
  CHECK(*args.core_limit == 0);

  const char* garbage[] = {"vigie-coredump", "pid", "x"};
  args = parseHelperArgs(3, garbage);
  CHECK(args.pid == 0);
  CHECK(args.errors.size() >= 2);  // the count, then each bad number
}

}  // namespace
}  // namespace vigie::coredump
