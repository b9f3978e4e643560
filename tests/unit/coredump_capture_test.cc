// vigie-coredump: a whole capture in-process (no kernel, no detach), for the paths the crash
// tests cannot reach without touching the host: defaults used because the config was broken,
// an unwritable spool.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "agent/coredump/capture.h"
#include "agent/coredump/file_io.h"
#include "tests/fakes/temp_dir.h"

namespace vigie::coredump {
namespace {

HelperArgs argsFor(pid_t pid) {
  const std::string pid_text = std::to_string(pid);
  const char* argv[] = {
      "vigie-coredump", pid_text.c_str(), pid_text.c_str(), "11", "1795943377", "0", "host"};
  return parseHelperArgs(7, argv);
}

// Runs both stages with an empty stdin; returns the published report, if any.
std::optional<v1::CaptureReport> captureWithEmptyInput(HelperArgs args, LoadedConfig config) {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  ::close(fds[1]);
  Capture capture(std::move(args), std::move(config));
  capture.collect(fds[0]);
  ::close(fds[0]);
  capture.finish();
  if (capture.entryPath().empty()) {
    return std::nullopt;
  }
  auto bytes = readSmallFile(AT_FDCWD, (capture.entryPath() + "/report.pb").c_str(), 1 << 24);
  REQUIRE(bytes.ok());
  v1::CaptureReport report;
  REQUIRE(report.ParseFromString(*bytes));
  CHECK(report.id() == capture.report().id());
  return report;
}

TEST_CASE("coredump capture: defaults used for a broken config are said in the report") {
  testing::TempDir dir;
  LoadedConfig config;
  config.config.spool_dir = dir.path() + "/spool";
  config.config.intake_socket = dir.path() + "/no-vigied.sock";  // vigied down: fine
  config.defaults_used = true;
  config.warning = "config /x.json: not a valid config; using defaults";
  const auto report = captureWithEmptyInput(argsFor(::getpid()), std::move(config));
  REQUIRE(report.has_value());
  INFO(report->DebugString());
  CHECK(report->config_defaults_used());
  REQUIRE(report->warnings_size() >= 1);
  CHECK(report->warnings(0).stage() == "config");
  CHECK(report->warnings(0).message().find("using defaults") != std::string::npos);
  // RLIMIT_CORE 0 (%c): metadata only, and this process described.
  CHECK(report->outcome() == v1::CAPTURE_OUTCOME_NO_CORE);
  CHECK(report->core().state() == v1::CORE_STATE_DISABLED);
  CHECK(report->process().pid() == ::getpid());
  // Published atomically: no temporary directory left.
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() + "/spool")) {
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
  }
}

TEST_CASE("coredump capture: an unwritable spool publishes nothing and does not fail") {
  testing::TempDir dir;
  const std::string file = dir.write("not-a-dir", "x");
  LoadedConfig config;
  config.config.spool_dir = file + "/spool";
  config.config.intake_socket = dir.path() + "/no-vigied.sock";
  const auto report = captureWithEmptyInput(argsFor(::getpid()), std::move(config));
  CHECK_FALSE(report.has_value());
}

TEST_CASE("coredump capture: an empty stdin is an empty core, not a failure") {
  testing::TempDir dir;
  LoadedConfig config;
  config.config.spool_dir = dir.path() + "/spool";
  config.config.intake_socket = dir.path() + "/no-vigied.sock";
  HelperArgs args = argsFor(::getpid());
  args.core_limit.reset();  // unlimited
  const auto report = captureWithEmptyInput(std::move(args), std::move(config));
  REQUIRE(report.has_value());
  INFO(report->DebugString());
  CHECK(report->core().state() == v1::CORE_STATE_EMPTY);
  CHECK(report->outcome() == v1::CAPTURE_OUTCOME_NO_CORE);
  CHECK(report->fingerprint_basis().find("exe ") == 0);
}

}  // namespace
}  // namespace vigie::coredump
