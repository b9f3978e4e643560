// vigied's incidents against real crashes: vigied installs its core_pattern (pointing at
// build/bin/vigie-coredump with a test config), real crashers die, and each test reads the
// incident records under <state>/crash the way the API will.
//
// The core_pattern is global to the host: these tests run in their own executable under the
// CTest lock `core_pattern`, inside the fixture that saves and restores it; each test restores
// it itself too (PatternRestorer), whatever happens to vigied.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/coredump/capture_id.h"
#include "agent/crash/incident_store.h"
#include "harness.h"
#include "metrics_scrape.h"
#include "vigie/v1/crash.pb.h"

namespace vigie::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kCorePattern = "/proc/sys/kernel/core_pattern";

Duration incidentTimeout() {
  return sanitizedBuild() ? Duration(180s) : Duration(90s);
}

std::string crasherPath(const std::string& name) {
  return std::string(VIGIE_HELPERS_DIR) + "/crashers/" + name;
}

std::string healthWorkloadPath() {
  return std::string(VIGIE_HELPERS_DIR) + "/health_workload";
}

std::string trimNewline(std::string text) {
  while (!text.empty() && text.back() == '\n') {
    text.pop_back();
  }
  return text;
}

std::string currentPattern() {
  return trimNewline(readFile(kCorePattern));
}

// Puts the host's pattern back at the end of the test, whatever vigied did or did not do.
class PatternRestorer {
 public:
  explicit PatternRestorer(const std::string& set_to = "") : saved_(readFile(kCorePattern)) {
    if (!set_to.empty()) {
      writeFile(kCorePattern, set_to + "\n");
    }
  }
  ~PatternRestorer() { writeFile(kCorePattern, saved_); }
  PatternRestorer(const PatternRestorer&) = delete;
  PatternRestorer& operator=(const PatternRestorer&) = delete;
  std::string saved() const { return trimNewline(saved_); }

 private:
  std::string saved_;
};

// A test's vigied: state dir, config with a `crash:` section whose helper is the build's
// vigie-coredump (through a short symlink: the pattern must stay under 128 bytes).
class IncidentLab {
 public:
  IncidentLab() {
    REQUIRE(::symlink((std::string(VIGIE_BIN_DIR) + "/vigie-coredump").c_str(),
                      dir.file("vc").c_str()) == 0);
  }

  std::string crashSection(const std::string& mode, const std::string& extra = "") const {
    return "crash:\n"
           "  core_pattern: " +
           mode +
           "\n"
           "  helper: " +
           dir.file("vc") +
           "\n"
           "  helper_config: " +
           dir.file("c.json") +
           "\n"
           "  intake_socket: " +
           dir.file("intake.sock") + "\n" + extra;
  }
  std::string expectedPattern() const {
    return "|" + dir.file("vc") + " -c " + dir.file("c.json") + " %P %i %s %t %c %h";
  }

  void writeConfig(const std::string& text) { writeFile(dir.file("vigie.yaml"), text); }

  std::vector<std::string> args(const std::string& mode = "") const {
    std::vector<std::string> args = {
        "--config", dir.file("vigie.yaml"), "--state-dir", dir.file("state"), "--socket",
        dir.file("vigie.sock"), "--metrics-listen", "127.0.0.1:0",
        // Like the harness: no shared `vigie` cgroup parent, which a SIGKILLed agent would leave.
        "--cgroups", "off"};
    if (!mode.empty()) {
      args.insert(args.end(), {"--core-pattern", mode});
    }
    return args;
  }

  std::string crashDir() const { return dir.file("state") + "/crash"; }
  std::string spoolDir() const { return crashDir() + "/spool"; }

  std::vector<v1::CrashIncident> incidents() const {
    std::vector<v1::CrashIncident> found;
    std::error_code ec;
    for (fs::directory_iterator it(crashDir(), ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!coredump::isCaptureId(name)) {
        continue;
      }
      auto incident =
          crash::incidentFromJson(readFile(it->path().string() + "/" + crash::kIncidentFile));
      if (incident) {
        found.push_back(*incident);
      }
    }
    return found;
  }

  std::optional<v1::CrashIncident> waitFor(
      const std::function<bool(const v1::CrashIncident&)>& match,
      Duration timeout = incidentTimeout()) const {
    std::optional<v1::CrashIncident> found;
    pollUntil(
        [&] {
          for (auto& incident : incidents()) {
            if (match(incident)) {
              found = incident;
              return true;
            }
          }
          return false;
        },
        timeout);
    return found;
  }

  TempDir dir;
};

// Runs a crasher outside any unit (as the test's child), with cores allowed.
pid_t crashOutsideUnits(const std::string& crasher) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    struct rlimit unlimited {
      RLIM_INFINITY, RLIM_INFINITY
    };
    ::setrlimit(RLIMIT_CORE, &unlimited);
    const std::string path = crasherPath(crasher);
    ::execl(path.c_str(), path.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSIGNALED(status));
  return pid;
}

std::string decompress(const std::string& path) {
  const std::string compressed = readFile(path);
  ZSTD_DStream* stream = ZSTD_createDStream();
  ZSTD_initDStream(stream);
  std::string out;
  std::vector<char> buffer(1 << 20);
  ZSTD_inBuffer in{compressed.data(), compressed.size(), 0};
  while (in.pos < in.size) {
    ZSTD_outBuffer chunk{buffer.data(), buffer.size(), 0};
    const size_t rc = ZSTD_decompressStream(stream, &chunk, &in);
    if (ZSTD_isError(rc)) {
      break;
    }
    out.append(buffer.data(), chunk.pos);
  }
  ZSTD_freeDStream(stream);
  return out;
}

bool stopWithSigterm(DaemonProcess& vigied) {
  ::kill(vigied.pid(), SIGTERM);
  return vigied.waitExit(30s) && vigied.exitCode() == 0;
}

TEST_CASE("incident: a segfaulting unit is restarted at once and gets a complete incident") {
  PatternRestorer restorer;
  IncidentLab lab;
  lab.writeConfig(
      "workloads:\n"
      "  - name: seg\n"
      "    exec: [/bin/sh, -c, 'echo last line before the crash; exec " +
      crasherPath("segv_deep") +
      "']\n"
      "    restart:\n"
      "      backoff: {initial: 60s, max: 60s}\n" +
      lab.crashSection("install"));
  DaemonProcess vigied(lab.dir, {.args = lab.args()});
  // Restarted at once: the second instance starts while the first one's capture may still run.
  REQUIRE_MESSAGE(vigied.waitForLog(" seg: instance 2 started, pid ", incidentTimeout()),
                  vigied.stderrText());
  const pid_t first = loggedPid(vigied.stderrText(), "seg", 1);
  auto incident = lab.waitFor([&](const v1::CrashIncident& candidate) {
    return candidate.pid() == first && candidate.status() != v1::INCIDENT_STATUS_PENDING;
  });
  REQUIRE_MESSAGE(incident.has_value(), vigied.stderrText());
  CHECK_MESSAGE(incident->status() == v1::INCIDENT_STATUS_COMPLETE, vigied.stderrText());
  CHECK(incident->unit() == "seg");
  CHECK(incident->instance_id() == 1);
  CHECK(incident->reason() == "core-dumped");
  CHECK(incident->signal_name() == "SIGSEGV");
  CHECK(incident->stdout_tail().find("last line before the crash") != std::string::npos);
  CHECK_FALSE(incident->fingerprint().empty());
  REQUIRE(incident->backtrace().threads_size() > 0);
  bool named = false;
  for (const auto& frame : incident->backtrace().threads(0).frames()) {
    named = named || frame.function() == "level3";
  }
  CHECK_MESSAGE(named, incident->backtrace().DebugString());
  REQUIRE(incident->core_path() == "core.zst");
  const std::string core =
      decompress(lab.crashDir() + "/" + incident->id() + "/" + incident->core_path());
  REQUIRE(core.size() > 64);
  CHECK(core.compare(0, 4,
                     "\x7f"
                     "ELF") == 0);
  CHECK(core[16] == 4);  // e_type ET_CORE
  CHECK(core.size() == incident->core_raw_bytes());
  struct stat st {};
  REQUIRE(::stat(lab.crashDir().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(stopWithSigterm(vigied));
  CHECK(currentPattern() == restorer.saved());
}

TEST_CASE("incident: a watchdog's SIGABRT gives a record of the function where it hung") {
  PatternRestorer restorer;
  IncidentLab lab;
  // Two pings 100ms apart, then it hangs in hang_without_pinging(). The parser takes any
  // positive period; 1s (as in health_test.cc) leaves a slow start room before the pings.
  // stop.timeout is long so that the SIGKILL never cuts the core dump short.
  lab.writeConfig(
      "workloads:\n"
      "  - name: hung\n"
      "    exec: [" +
      healthWorkloadPath() +
      ", watchdog, '2', '100']\n"
      "    notify: true\n"
      "    watchdog: 1s\n"
      "    stop: {timeout: 60s}\n"
      "    restart: {policy: never}\n" +
      lab.crashSection("install"));
  DaemonProcess vigied(lab.dir, {.args = lab.args()});
  REQUIRE_MESSAGE(vigied.waitForLog(" hung: instance 1 started, pid "), vigied.stderrText());
  const pid_t pid = loggedPid(vigied.stderrText(), "hung", 1);
  auto incident = lab.waitFor([&](const v1::CrashIncident& candidate) {
    return candidate.pid() == pid && candidate.status() != v1::INCIDENT_STATUS_PENDING;
  });
  REQUIRE_MESSAGE(incident.has_value(), vigied.stderrText());
  CHECK(vigied.stderrText().find("hung: instance 1 sent no WATCHDOG=1 within 1s") !=
        std::string::npos);
  CHECK_MESSAGE(incident->status() == v1::INCIDENT_STATUS_COMPLETE, vigied.stderrText());
  CHECK(incident->unit() == "hung");
  CHECK(incident->instance_id() == 1);
  CHECK(incident->reason() == "watchdog");
  CHECK(incident->signal() == SIGABRT);
  CHECK(incident->signal_name() == "SIGABRT");
  REQUIRE(incident->backtrace().threads_size() > 0);
  const v1::BacktraceThread& crashed = incident->backtrace().threads(0);
  CHECK(crashed.crashed());
  bool named = false;
  for (const auto& frame : crashed.frames()) {
    named = named || frame.function() == "hang_without_pinging";
  }
  CHECK_MESSAGE(named, incident->backtrace().DebugString());
  CHECK(stopWithSigterm(vigied));
  CHECK(currentPattern() == restorer.saved());
}

TEST_CASE("incident: a real crash moves the crash counter and the capture histogram") {
  PatternRestorer restorer;
  IncidentLab lab;
  // The unit crashes when the test says so: after a scrape that shows every series at 0.
  const std::string go = lab.dir.file("go");
  REQUIRE(::mkfifo(go.c_str(), 0600) == 0);
  lab.writeConfig(
      "workloads:\n"
      "  - name: seg\n"
      "    exec: [/bin/sh, -c, 'read line < " +
      go + "; exec " + crasherPath("segv_deep") +
      "']\n"
      "    restart:\n"
      "      backoff: {initial: 60s, max: 60s}\n" +
      lab.crashSection("install"));
  DaemonProcess vigied(lab.dir, {.args = lab.args()});
  const uint16_t port = metricsPort(vigied);
  REQUIRE_MESSAGE(vigied.waitForLog(" seg: instance 1 started, pid "), vigied.stderrText());
  const std::string crashes = R"(vigie_crashes_total{reason="core-dumped",unit="seg"})";
  const std::string captures = "vigie_crash_capture_duration_seconds_count";
  const std::string before = scrape(port);
  CHECK(valueOr(before, crashes) == 0);
  CHECK(valueOr(before, R"(vigie_crash_cores_total{outcome="stored"})") == 0);
  // Other crashes on the host reach the helper too: counted node-level, never as seg's.
  const double captures_before = valueOr(before, captures);

  // The shell is blocked opening the FIFO: a writer lets it go on to the crasher.
  int fd = -1;
  REQUIRE(pollUntil([&] { return (fd = ::open(go.c_str(), O_WRONLY | O_NONBLOCK)) >= 0; }));
  REQUIRE(::write(fd, "go\n", 3) == 3);
  ::close(fd);
  std::string after;
  REQUIRE_MESSAGE(pollUntil(
                      [&] {
                        after = scrape(port);
                        return valueOr(after, crashes) >= 1 &&
                               valueOr(after, captures) > captures_before &&
                               valueOr(after, "vigie_crash_store_bytes") > 0;
                      },
                      incidentTimeout()),
                  after << vigied.stderrText());
  CHECK(valueOr(after, crashes) == 1);
  CHECK(valueOr(after, R"(vigie_crashes_total{reason="signaled",unit="seg"})") == 0);
  CHECK(valueOr(after, "vigie_crash_capture_duration_seconds_sum") > 0);
  CHECK(valueOr(after, R"(vigie_crash_capture_stage_duration_seconds_count{stage="drain"})") >= 1);
  CHECK(valueOr(after, R"(vigie_crash_cores_total{outcome="stored"})") >= 1);
  CHECK(valueOr(after, "vigie_crash_core_raw_bytes_total") > 0);
  CHECK(valueOr(after, "vigie_crash_core_stored_bytes_total") > 0);
  CHECK(valueOr(after, "vigie_core_pattern_drift") == 0);
  CHECK(stopWithSigterm(vigied));
  CHECK(currentPattern() == restorer.saved());
}

TEST_CASE("incident: exit 3 gives a no-core incident with the last printed line") {
  PatternRestorer restorer;
  IncidentLab lab;
  lab.writeConfig(
      "workloads:\n"
      "  - name: three\n"
      "    exec: [" +
      crasherPath("exit3") +
      "]\n"
      "    restart: {policy: never}\n" +
      lab.crashSection("install"));
  DaemonProcess vigied(lab.dir, {.args = lab.args()});
  auto incident = lab.waitFor([](const v1::CrashIncident& c) { return c.unit() == "three"; });
  REQUIRE_MESSAGE(incident.has_value(), vigied.stderrText());
  CHECK(incident->status() == v1::INCIDENT_STATUS_NO_CORE);
  CHECK(incident->reason() == "exited");
  CHECK(incident->exit_code() == 3);
  CHECK(incident->stdout_tail().find("crasher exit3: about to exit 3") != std::string::npos);
  CHECK(stopWithSigterm(vigied));
}

TEST_CASE("incident: a crash of a process that is no unit's gives a node-level record") {
  PatternRestorer restorer;
  IncidentLab lab;
  lab.writeConfig("workloads: []\n" + lab.crashSection("install"));
  DaemonProcess vigied(lab.dir, {.args = lab.args()});
  REQUIRE(vigied.waitForLog("vigied started"));
  const pid_t pid = crashOutsideUnits("abort");
  auto incident = lab.waitFor([&](const v1::CrashIncident& c) { return c.pid() == pid; });
  REQUIRE_MESSAGE(incident.has_value(), vigied.stderrText());
  CHECK(incident->node_level());
  CHECK(incident->unit().empty());
  CHECK(incident->signal_name() == "SIGABRT");
  CHECK(incident->status() == v1::INCIDENT_STATUS_COMPLETE);
  CHECK(stopWithSigterm(vigied));
}

TEST_CASE("incident: a crash while vigied is down waits in the spool and the pattern comes back") {
  PatternRestorer restorer;
  IncidentLab lab;
  lab.writeConfig("workloads: []\n" + lab.crashSection("install"));
  pid_t pid = 0;
  {
    DaemonProcess vigied(lab.dir, {.args = lab.args()});
    REQUIRE(vigied.waitForLog("vigied started"));
    REQUIRE(currentPattern() == lab.expectedPattern());
    ::kill(vigied.pid(), SIGKILL);
    REQUIRE(vigied.waitExit());
    // Died without restoring: the pattern is still ours, the host's is saved.
    CHECK(currentPattern() == lab.expectedPattern());
    CHECK(trimNewline(readFile(lab.crashDir() + "/core_pattern.saved")) == restorer.saved());
    pid = crashOutsideUnits("segv_deep");
    // The helper publishes into the spool and cannot reach vigied.
    REQUIRE(pollUntil(
        [&] {
          std::error_code ec;
          for (fs::directory_iterator it(lab.spoolDir(), ec), end; !ec && it != end;
               it.increment(ec)) {
            const std::string name = it->path().filename().string();
            if (coredump::isCaptureId(name) &&
                name.find("-" + std::to_string(pid) + "-") != std::string::npos) {
              return true;
            }
          }
          return false;
        },
        incidentTimeout()));
  }
  DaemonProcess vigied(lab.dir, {.args = lab.args()});
  REQUIRE(vigied.waitForLog("saved by a vigied that did not stop cleanly"));
  auto incident = lab.waitFor([&](const v1::CrashIncident& c) { return c.pid() == pid; });
  REQUIRE_MESSAGE(incident.has_value(), vigied.stderrText());
  CHECK(incident->node_level());
  CHECK(incident->status() == v1::INCIDENT_STATUS_COMPLETE);
  CHECK(currentPattern() == lab.expectedPattern());
  CHECK(stopWithSigterm(vigied));
  CHECK(currentPattern() == restorer.saved());
  CHECK_FALSE(fs::exists(lab.crashDir() + "/core_pattern.saved"));
}

TEST_CASE("incident: SIGKILL in the middle of an incident write leaves no half record") {
  PatternRestorer restorer;
  IncidentLab lab;
  lab.writeConfig(
      "workloads:\n"
      "  - name: three\n"
      "    exec: [" +
      crasherPath("exit3") +
      "]\n"
      "    restart: {policy: never}\n" +
      lab.crashSection("leave"));
  {
    std::vector<std::string> args = lab.args();
    args.insert(args.end(), {"--crash-kill-at-for-test", "create-before-rename"});
    DaemonProcess vigied(lab.dir, {.args = args});
    REQUIRE(vigied.waitExit(incidentTimeout()));
    CHECK(WIFSIGNALED(vigied.rawStatus()));
    CHECK(WTERMSIG(vigied.rawStatus()) == SIGKILL);
  }
  // Killed with the record fully written in its temp dir, just before the rename.
  bool temp_left = false;
  for (const auto& entry : fs::directory_iterator(lab.crashDir())) {
    temp_left = temp_left || entry.path().filename().string().rfind(".tmp-", 0) == 0;
  }
  CHECK(temp_left);
  CHECK(lab.incidents().empty());

  DaemonProcess vigied(lab.dir, {.args = lab.args()});
  REQUIRE(vigied.waitForLog("removed the half-written record"));
  // The new run records its own instance's end; none of the old half record is visible.
  auto incident = lab.waitFor([](const v1::CrashIncident& c) { return c.unit() == "three"; });
  REQUIRE(incident.has_value());
  for (const auto& entry : fs::directory_iterator(lab.crashDir())) {
    CHECK(entry.path().filename().string().rfind(".tmp-", 0) != 0);
  }
  CHECK(lab.incidents().size() == 1);
  CHECK(stopWithSigterm(vigied));
}

TEST_CASE("incident: a garbage report in the spool gives an error record, vigied runs on") {
  PatternRestorer restorer;
  IncidentLab lab;
  lab.writeConfig("workloads: []\n" + lab.crashSection("leave"));
  const std::string entry = coredump::makeCaptureId(1764400000, 4242, 0xdeadbeefu);
  fs::create_directories(lab.spoolDir() + "/" + entry);
  writeFile(lab.spoolDir() + "/" + entry + "/report.pb", "\xff\xff\xff\xff not a protobuf");
  DaemonProcess vigied(lab.dir, {.args = lab.args()});
  auto incident = lab.waitFor([&](const v1::CrashIncident& c) { return c.id() == entry; });
  REQUIRE_MESSAGE(incident.has_value(), vigied.stderrText());
  CHECK(incident->status() == v1::INCIDENT_STATUS_CAPTURE_FAILED);
  REQUIRE(incident->errors_size() == 1);
  CHECK(vigied.running());
  CHECK(stopWithSigterm(vigied));
}

TEST_CASE("incident: core_pattern is saved, installed, and restored on SIGTERM") {
  PatternRestorer restorer("core-vigie-incident-test");
  IncidentLab lab;
  lab.writeConfig("workloads: []\n" + lab.crashSection("install"));
  DaemonProcess vigied(lab.dir, {.args = lab.args()});
  REQUIRE(vigied.waitForLog("vigied started"));
  CHECK(currentPattern() == lab.expectedPattern());
  CHECK(trimNewline(readFile(lab.crashDir() + "/core_pattern.saved")) ==
        "core-vigie-incident-test");
  const std::string helper_config = readFile(lab.dir.file("c.json"));
  CHECK(helper_config.find(lab.spoolDir()) != std::string::npos);
  CHECK(helper_config.find(lab.dir.file("intake.sock")) != std::string::npos);
  CHECK(stopWithSigterm(vigied));
  CHECK(currentPattern() == "core-vigie-incident-test");
  CHECK_FALSE(fs::exists(lab.crashDir() + "/core_pattern.saved"));
}

TEST_CASE("incident: with leave, vigied never touches core_pattern") {
  PatternRestorer restorer("core-vigie-leave-test");
  IncidentLab lab;
  lab.writeConfig("workloads: []\n" + lab.crashSection("leave"));
  DaemonProcess vigied(lab.dir, {.args = lab.args()});
  REQUIRE(vigied.waitForLog("vigied started"));
  CHECK(currentPattern() == "core-vigie-leave-test");
  CHECK_FALSE(fs::exists(lab.crashDir() + "/core_pattern.saved"));
  CHECK_FALSE(fs::exists(lab.dir.file("c.json")));
  CHECK(stopWithSigterm(vigied));
  CHECK(currentPattern() == "core-vigie-leave-test");
}

TEST_CASE("incident: with its helper missing, vigied leaves core_pattern as it is") {
  PatternRestorer restorer("core-vigie-no-helper-test");
  IncidentLab lab;
  REQUIRE(::unlink(lab.dir.file("vc").c_str()) == 0);
  lab.writeConfig("workloads: []\n" + lab.crashSection("install"));
  DaemonProcess vigied(lab.dir, {.args = lab.args()});
  REQUIRE_MESSAGE(vigied.waitForLog("cannot install vigie's helper: the helper " +
                                    lab.dir.file("vc") + " cannot be run"),
                  vigied.stderrText());
  REQUIRE(vigied.waitForLog("vigied started"));
  CHECK(currentPattern() == "core-vigie-no-helper-test");
  CHECK_FALSE(fs::exists(lab.crashDir() + "/core_pattern.saved"));
  CHECK(stopWithSigterm(vigied));
  CHECK(currentPattern() == "core-vigie-no-helper-test");
}

TEST_CASE("incident: a rewritten core_pattern is reported as drift and left in place") {
  PatternRestorer restorer("core-vigie-drift-test");
  IncidentLab lab;
  lab.writeConfig("workloads: []\n" +
                  lab.crashSection("install", "  drift_check_interval: 100ms\n"));
  DaemonProcess vigied(lab.dir, {.args = lab.args()});
  const uint16_t port = metricsPort(vigied);
  REQUIRE(vigied.waitForLog("vigied started"));
  REQUIRE(currentPattern() == lab.expectedPattern());
  CHECK(valueOr(scrape(port), "vigie_core_pattern_drift") == 0);
  writeFile(kCorePattern, "core-someone-else\n");
  REQUIRE_MESSAGE(vigied.waitForLog("core_pattern drift"), vigied.stderrText());
  // The log line comes first, the gauge right after it on the loop.
  CHECK(pollUntil([&] { return valueOr(scrape(port), "vigie_core_pattern_drift") == 1; }));
  CHECK(stopWithSigterm(vigied));
  CHECK(currentPattern() == "core-someone-else");
}

}  // namespace
}  // namespace vigie::testing
