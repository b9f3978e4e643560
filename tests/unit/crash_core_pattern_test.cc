// vigied's hold on core_pattern, against a plain file standing in for
// /proc/sys/kernel/core_pattern: save, install, read back, restore, leftovers, drift.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/crash/core_pattern.h"
#include "agent/crash/helper_config_file.h"
#include "tests/fakes/temp_dir.h"
#include "vigie/v1/crash.pb.h"

#include <google/protobuf/util/json_util.h>

namespace vigie::crash {
namespace {

using testing::TempDir;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Files {
  TempDir dir{"vigie-crash-pattern"};
  std::string pattern = dir.write("core_pattern", "core\n");
  std::string saved = dir.path() + "/core_pattern.saved";
  std::string ours =
      buildCorePattern("/usr/libexec/vigie/vigie-coredump", "/run/vigie/coredump.json");
};

TEST_CASE("crash core_pattern: the pattern names the helper, with -c only for another config") {
  CHECK(buildCorePattern("/usr/libexec/vigie/vigie-coredump", "/run/vigie/coredump.json") ==
        "|/usr/libexec/vigie/vigie-coredump %P %i %s %t %c %h");
  CHECK(buildCorePattern("/b/vigie-coredump", "/t/c.json") ==
        "|/b/vigie-coredump -c /t/c.json %P %i %s %t %c %h");
}

TEST_CASE("crash core_pattern: install saves the previous pattern, restore puts it back") {
  Files files;
  CorePatternManager manager(files.pattern, files.saved, files.ours);
  REQUIRE(manager.install());
  CHECK(manager.installed());
  CHECK(manager.previous() == "core");
  CHECK(*manager.current() == files.ours);
  CHECK(slurp(files.saved) == "core\n");
  CHECK_FALSE(*manager.drifted());
  REQUIRE(manager.restore());
  CHECK(slurp(files.pattern) == "core");
  CHECK_FALSE(std::filesystem::exists(files.saved));
}

TEST_CASE("crash core_pattern: a pattern that is already ours is not saved as the previous") {
  Files files;
  files.dir.write("core_pattern", files.ours + "\n");
  CorePatternManager manager(files.pattern, files.saved, files.ours);
  REQUIRE(manager.install());
  CHECK(manager.previous().empty());
  CHECK_FALSE(std::filesystem::exists(files.saved));
}

TEST_CASE("crash core_pattern: a leftover saved file is restored at the next start") {
  Files files;
  {
    CorePatternManager crashed(files.pattern, files.saved, files.ours);
    REQUIRE(crashed.install());
    // vigied dies here: no restore.
  }
  CHECK(slurp(files.pattern) == files.ours);
  CorePatternManager next(files.pattern, files.saved, files.ours);
  auto leftover = next.restoreLeftover();
  REQUIRE(leftover);
  REQUIRE(leftover->has_value());
  CHECK(**leftover == "core");
  CHECK(slurp(files.pattern) == "core");
  CHECK_FALSE(std::filesystem::exists(files.saved));
  // And the next install saves the real previous pattern again, not ours.
  REQUIRE(next.install());
  CHECK(slurp(files.saved) == "core\n");
}

TEST_CASE("crash core_pattern: a pattern over 127 bytes is refused before anything is written") {
  Files files;
  CorePatternManager manager(files.pattern, files.saved,
                             buildCorePattern("/" + std::string(120, 'x'), ""));
  auto installed = manager.install();
  REQUIRE_FALSE(installed);
  CHECK(installed.error().message.find("127") != std::string::npos);
  CHECK(slurp(files.pattern) == "core\n");
  CHECK_FALSE(std::filesystem::exists(files.saved));
}

TEST_CASE("crash core_pattern: drift is seen when someone else rewrites the pattern") {
  Files files;
  CorePatternManager manager(files.pattern, files.saved, files.ours);
  REQUIRE(manager.install());
  files.dir.write("core_pattern", "|/lib/systemd/systemd-coredump %P %u %g %s %t %c %h\n");
  CHECK(*manager.drifted());
  manager.abandon();
  CHECK_FALSE(std::filesystem::exists(files.saved));
  CHECK(manager.restore());  // nothing to do once abandoned: theirs stays.
  CHECK(slurp(files.pattern) == "|/lib/systemd/systemd-coredump %P %u %g %s %t %c %h\n");
}

TEST_CASE("crash core_pattern: the helper's config carries the effective settings") {
  CrashSpec spec;
  spec.intake_socket = "/tmp/x/intake.sock";
  spec.core_size_max = 1 << 20;
  spec.capture_timeout = std::chrono::seconds(5);
  spec.redact_env = {"*PIN*"};
  spec.rate_burst = 2;
  spec.forward_previous = true;
  const std::string systemd = "|/lib/systemd/systemd-coredump %P %u %g %s %t %c %h";
  const std::string forward = forwardPattern(spec, systemd, "|/x %P");
  CHECK(forward == systemd);
  CHECK(forwardPattern(spec, "core", "|/x %P").empty());
  CHECK(forwardPattern(spec, "|/x %P", "|/x %P").empty());
  spec.forward_previous = false;
  CHECK(forwardPattern(spec, systemd, "|/x %P").empty());

  v1::CoredumpHelperConfig config;
  REQUIRE(google::protobuf::util::JsonStringToMessage(
              helperConfigJson(spec, "/tmp/x/spool", forward), &config)
              .ok());
  CHECK(config.spool_dir() == "/tmp/x/spool");
  CHECK(config.intake_socket() == "/tmp/x/intake.sock");
  CHECK(config.core_size_max() == (1 << 20));
  CHECK(config.capture_timeout().seconds() == 5);
  REQUIRE(config.redact_env_size() == 1);
  CHECK(config.redact_env(0) == "*PIN*");
  CHECK(config.redact_args_size() == 0);
  CHECK(config.forward() == systemd);
  CHECK(config.rate_limit().burst() == 2);
}

}  // namespace
}  // namespace vigie::crash
