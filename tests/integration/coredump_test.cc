// vigie-coredump against real crashes: the kernel's core_pattern points at the helper, small
// crashers die in known ways, and each test reads the spool entry the helper wrote.
//
// The core_pattern is global to the host. These tests run in their own executable under the
// CTest lock `core_pattern`, between a fixture that saves and restores the pattern; each test
// also restores it itself (CorePatternGuard), and .ci/run restores it when everything else
// fails. Other crashes on the host during a test also reach the helper: entries are matched by
// pid.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/coredump/capture_id.h"
#include "agent/os/unique_fd.h"
#include "tests/fakes/temp_dir.h"
#include "vigie/v1/crash.pb.h"

namespace vigie::testing {
namespace {

using namespace std::chrono_literals;
using Duration = std::chrono::nanoseconds;

// This executable does not use the integration harness: the harness sets RLIMIT_CORE to 0 for
// good (soft and hard) at start, and without CAP_SYS_RESOURCE the crashers could not raise it.

bool sanitizedBuild() {
  const char* value = std::getenv("VIGIE_SANITIZED");
  return value != nullptr && std::string(value) == "1";
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  REQUIRE_MESSAGE(out.flush(), "cannot write " << path);
}

// Condition-based waits: check every few milliseconds until `pred` holds or `timeout` passes.
bool pollUntil(const std::function<bool()>& pred, Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return pred();
    }
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

std::string fileIn(const TempDir& dir, const std::string& name) {
  return dir.path() + "/" + name;
}

constexpr const char* kCorePattern = "/proc/sys/kernel/core_pattern";

// Generous: symbolization under ASan on a loaded 2-core machine takes seconds.
Duration captureTimeout() {
  return sanitizedBuild() ? Duration(180s) : Duration(90s);
}

std::string crasherPath(const std::string& name) {
  return std::string(VIGIE_HELPERS_DIR) + "/crashers/" + name;
}
std::string coredumpHelperPath() {
  return std::string(VIGIE_BIN_DIR) + "/vigie-coredump";
}

std::string trimNewline(std::string text) {
  while (!text.empty() && text.back() == '\n') {
    text.pop_back();
  }
  return text;
}

// Sets the host's core_pattern for one test and puts the previous one back, whatever happens.
class CorePatternGuard {
 public:
  explicit CorePatternGuard(const std::string& pattern)
      : saved_(readFile(kCorePattern)), pattern_(pattern) {
    REQUIRE_MESSAGE(pattern.size() < 128, "the kernel cuts core_pattern at 128 bytes: " << pattern);
    writeFile(kCorePattern, pattern + "\n");
    // The kernel accepts a longer pattern without a word and cuts it: check what it kept.
    REQUIRE(trimNewline(readFile(kCorePattern)) == pattern);
  }
  // Puts the previous pattern back, unless someone else has replaced ours meanwhile (theirs
  // is then theirs to restore).
  ~CorePatternGuard() {
    if (trimNewline(readFile(kCorePattern)) == pattern_) {
      writeFile(kCorePattern, saved_);
    }
  }
  CorePatternGuard(const CorePatternGuard&) = delete;
  CorePatternGuard& operator=(const CorePatternGuard&) = delete;

 private:
  std::string saved_;
  std::string pattern_;
};

// A test's world: a temp dir with the helper's config, spool and intake socket.
class CrashLab {
 public:
  explicit CrashLab(const std::string& extra_config = "") {
    spool_ = fileIn(dir_, "spool");
    intake_path_ = fileIn(dir_, "intake.sock");
    config_path_ = fileIn(dir_, "coredump.json");
    std::string config = "{\"spool_dir\": \"" + spool_ + "\", \"intake_socket\": \"" +
                         intake_path_ + "\", \"capture_timeout\": \"170s\"";
    if (!extra_config.empty()) {
      config += ", " + extra_config;
    }
    writeFile(config_path_, config + "}\n");

    intake_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    REQUIRE(intake_.valid());
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, intake_path_.c_str(), sizeof(address.sun_path) - 1);
    REQUIRE(::bind(intake_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);

    // The kernel runs the helper by absolute path, in a pattern of at most 127 bytes: a long
    // checkout path goes through a symlink in the (short) temp dir.
    std::string helper = coredumpHelperPath();
    if (patternFor(helper).size() >= 128) {
      helper = fileIn(dir_, "vc");
      REQUIRE(::symlink(coredumpHelperPath().c_str(), helper.c_str()) == 0);
    }
    pattern_ = patternFor(helper);
  }

  const std::string& pattern() const { return pattern_; }
  const std::string& spool() const { return spool_; }
  const std::string& configPath() const { return config_path_; }
  const TempDir& dir() const { return dir_; }

  // The entry whose report names `pid`, once it is published.
  std::optional<v1::CaptureReport> waitForEntry(pid_t pid) {
    std::optional<v1::CaptureReport> found;
    pollUntil(
        [&] {
          found = findEntry(pid);
          return found.has_value();
        },
        captureTimeout());
    return found;
  }

  std::optional<v1::CaptureReport> findEntry(pid_t pid) const {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(spool_, ec)) {
      const std::string name = entry.path().filename().string();
      if (!coredump::isCaptureId(name)) {
        continue;  // ".ratelimit", "<id>.tmp" (not published yet)
      }
      v1::CaptureReport report;
      if (report.ParseFromString(readFile(spool_ + "/" + name + "/report.pb")) &&
          report.process().pid() == pid) {
        return report;
      }
    }
    return std::nullopt;
  }

  std::string entryPath(const v1::CaptureReport& report) const {
    return spool_ + "/" + report.id();
  }

  // True once the helper's datagram naming `id` has arrived on the intake socket.
  bool waitForDatagram(const std::string& id) {
    return pollUntil(
        [&] {
          char buffer[256];
          ssize_t n;
          while ((n = ::recv(intake_.get(), buffer, sizeof(buffer), 0)) > 0) {
            datagrams_.emplace_back(buffer, static_cast<size_t>(n));
          }
          for (const auto& datagram : datagrams_) {
            if (datagram == id) {
              return true;
            }
          }
          return false;
        },
        captureTimeout());
  }

 private:
  std::string patternFor(const std::string& helper) const {
    return "|" + helper + " -c " + config_path_ + " %P %i %s %t %c %h";
  }

  TempDir dir_;
  std::string spool_, intake_path_, config_path_, pattern_;
  UniqueFd intake_;
  std::vector<std::string> datagrams_;
};

struct CrasherRun {
  pid_t pid = -1;
  int status = 0;
  std::string output;
};

// Runs a crasher as a child with RLIMIT_CORE = `core_limit` and waits for it.
CrasherRun runCrasher(const std::string& path, const std::vector<std::string>& args = {},
                      const std::vector<std::string>& env = {}, rlim_t core_limit = RLIM_INFINITY) {
  TempDir out_dir;
  const std::string out_path = fileIn(out_dir, "out");
  std::vector<std::string> argv_storage = {path};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  std::vector<std::string> env_storage = {"PATH=/usr/bin:/bin"};
  env_storage.insert(env_storage.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& entry : env_storage) {
    envp.push_back(entry.data());
  }
  envp.push_back(nullptr);

  CrasherRun run;
  run.pid = ::fork();
  REQUIRE(run.pid >= 0);
  if (run.pid == 0) {
    rlimit limit{};
    ::getrlimit(RLIMIT_CORE, &limit);
    limit.rlim_cur = core_limit;
    if (::setrlimit(RLIMIT_CORE, &limit) != 0) {
      ::_exit(126);  // the hard limit is below what the test needs
    }
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    ::signal(SIGPIPE, SIG_DFL);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  REQUIRE(::waitpid(run.pid, &run.status, 0) == run.pid);
  REQUIRE_MESSAGE(!(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 126),
                  "RLIMIT_CORE cannot be raised to " << core_limit << " (hard limit too low)");
  run.output = readFile(out_path);
  return run;
}

const v1::BacktraceThread* crashedThread(const v1::CaptureReport& report) {
  for (const auto& thread : report.backtrace().threads()) {
    if (thread.crashed()) {
      return &thread;
    }
  }
  return nullptr;
}

bool hasFrame(const v1::BacktraceThread& thread, const std::string& function) {
  for (const auto& frame : thread.frames()) {
    if (frame.function() == function) {
      return true;
    }
  }
  return false;
}

std::string describe(const v1::CaptureReport& report) {
  return report.DebugString();
}

// core.zst -> core, with libzstd; REQUIREs a valid frame.
std::string decompress(const std::string& compressed) {
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> dctx(ZSTD_createDCtx(), &ZSTD_freeDCtx);
  std::string out;
  std::vector<char> buffer(ZSTD_DStreamOutSize());
  ZSTD_inBuffer input{compressed.data(), compressed.size(), 0};
  size_t last = 1;
  while (input.pos < input.size) {
    ZSTD_outBuffer output{buffer.data(), buffer.size(), 0};
    last = ZSTD_decompressStream(dctx.get(), &output, &input);
    REQUIRE_MESSAGE(!ZSTD_isError(last), ZSTD_getErrorName(last));
    out.append(buffer.data(), output.pos);
  }
  REQUIRE_MESSAGE(last == 0, "the zstd frame is incomplete");
  return out;
}

std::string runCommand(const std::string& command) {
  std::string output;
  struct Closer {
    void operator()(FILE* file) const { ::pclose(file); }
  };
  std::unique_ptr<FILE, Closer> pipe(::popen(command.c_str(), "r"));
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> buffer{};
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0) {
    output.append(buffer.data(), n);
  }
  return output;
}

// Runs the helper by hand, as the kernel would, with `input` on its stdin. Returns its exit
// status (the first process: the capture goes on in a detached grandchild).
int runHelperByHand(const CrashLab& lab, const std::vector<std::string>& args,
                    const std::string& input) {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  std::vector<std::string> argv_storage = {coredumpHelperPath(), "-c", lab.configPath()};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[0], STDIN_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[0]);
  ::signal(SIGPIPE, SIG_IGN);
  size_t done = 0;
  while (done < input.size()) {
    const ssize_t n = ::write(fds[1], input.data() + done, input.size() - done);
    if (n <= 0) {
      break;
    }
    done += static_cast<size_t>(n);
  }
  ::close(fds[1]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return status;
}

std::string nowText() {
  return std::to_string(std::time(nullptr));
}

TEST_CASE("coredump: a segfault three calls deep gives a full record and a core gdb can open") {
  CrashLab lab;
  CorePatternGuard pattern(lab.pattern());
  const CrasherRun run =
      runCrasher(crasherPath("segv_deep"), {"--password=hunter2", "--token", "t0k", "--user=bob"},
                 {"MY_API_TOKEN=topsecret", "DB_PASSWORD=pw", "COLOR=blue"});
  REQUIRE(WIFSIGNALED(run.status));
  CHECK(WTERMSIG(run.status) == SIGSEGV);
  CHECK(WCOREDUMP(run.status));

  const auto report = lab.waitForEntry(run.pid);
  REQUIRE_MESSAGE(report.has_value(), "no spool entry for pid " << run.pid);
  INFO(describe(*report));
  CHECK(report->outcome() == v1::CAPTURE_OUTCOME_COMPLETE);
  CHECK(report->errors_size() == 0);
  CHECK(report->signal() == SIGSEGV);
  CHECK(report->signal_name() == "SIGSEGV");
  CHECK(report->has_signal_info());
  CHECK(report->signal_code() == SEGV_MAPERR);
  CHECK(report->fault_address() == 0);
  CHECK(report->process().exe() == crasherPath("segv_deep"));
  CHECK(report->process().comm() == "segv_deep");
  CHECK(report->process().start_time_ticks() > 0);
  CHECK(report->hostname().size() > 0);
  CHECK(report->fingerprint().size() == 16);
  CHECK(coredump::isCaptureId(report->id()));

  // Secrets: environ keys and arguments.
  const auto& process = report->process();
  std::vector<std::string> cmdline(process.cmdline().begin(), process.cmdline().end());
  CHECK(cmdline == std::vector<std::string>{crasherPath("segv_deep"), "--password=<redacted>",
                                            "--token", "<redacted>", "--user=bob"});
  std::vector<std::string> environ(process.environ().begin(), process.environ().end());
  CHECK(std::find(environ.begin(), environ.end(), "MY_API_TOKEN=<redacted>") != environ.end());
  CHECK(std::find(environ.begin(), environ.end(), "DB_PASSWORD=<redacted>") != environ.end());
  CHECK(std::find(environ.begin(), environ.end(), "COLOR=blue") != environ.end());
  CHECK(process.redacted_count() == 4);
  CHECK(describe(*report).find("hunter2") == std::string::npos);
  CHECK(describe(*report).find("topsecret") == std::string::npos);

  // The backtrace: level3 <- level2 <- level1 <- main, with file:line.
  const v1::BacktraceThread* thread = crashedThread(*report);
  REQUIRE(thread != nullptr);
  REQUIRE(thread->frames_size() >= 4);
  CHECK(thread->frames(0).function() == "level3");
  CHECK(thread->frames(1).function() == "level2");
  CHECK(thread->frames(2).function() == "level1");
  CHECK(thread->frames(3).function() == "main");
  CHECK(thread->frames(0).file().find("segv_deep.c") != std::string::npos);
  CHECK(thread->frames(0).line() > 0);
  CHECK(thread->frames(0).build_id() == report->backtrace().exe_build_id());
  CHECK(thread->frames(0).module() == crasherPath("segv_deep"));

  // The core: stored, compressed, and a real core that eu-stack and gdb read.
  CHECK(lab.waitForDatagram(report->id()));
  const auto& core = report->core();
  CHECK(core.state() == v1::CORE_STATE_STORED);
  CHECK_FALSE(core.truncated());
  CHECK(core.path() == "core.zst");
  CHECK(core.compression() == v1::CORE_COMPRESSION_ZSTD);
  const std::string compressed = readFile(lab.entryPath(*report) + "/core.zst");
  CHECK(compressed.size() == core.stored_bytes());
  const std::string raw = decompress(compressed);
  CHECK(raw.size() == core.raw_bytes());
  CHECK(core.stored_bytes() < core.raw_bytes());
  const std::string core_path = fileIn(lab.dir(), "core");
  writeFile(core_path, raw);
  const std::string stack =
      runCommand("eu-stack --core " + core_path + " -e " + crasherPath("segv_deep") + " 2>&1");
  CHECK_MESSAGE(stack.find("level3") != std::string::npos, stack);
  const std::string gdb =
      runCommand("gdb -batch -nx -ex bt " + crasherPath("segv_deep") + " " + core_path + " 2>&1");
  CHECK_MESSAGE(gdb.find("level2") != std::string::npos, gdb);

  // The entry is private.
  struct stat st {};
  REQUIRE(::stat(lab.entryPath(*report).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("coredump: abort() is SIGABRT with the caller in the backtrace") {
  CrashLab lab;
  CorePatternGuard pattern(lab.pattern());
  const CrasherRun run = runCrasher(crasherPath("abort"));
  REQUIRE(WIFSIGNALED(run.status));
  CHECK(WTERMSIG(run.status) == SIGABRT);
  const auto report = lab.waitForEntry(run.pid);
  REQUIRE(report.has_value());
  INFO(describe(*report));
  CHECK(report->signal_name() == "SIGABRT");
  const v1::BacktraceThread* thread = crashedThread(*report);
  REQUIRE(thread != nullptr);
  CHECK(hasFrame(*thread, "give_up"));
  CHECK(hasFrame(*thread, "main"));
  // The fingerprint skips abort's own frames.
  CHECK(report->fingerprint_basis().find("give_up") != std::string::npos);
  CHECK(report->fingerprint_basis().find("raise") == std::string::npos);
}

TEST_CASE("coredump: an uncaught C++ exception shows demangled names") {
  CrashLab lab;
  CorePatternGuard pattern(lab.pattern());
  const CrasherRun run = runCrasher(crasherPath("throw"));
  REQUIRE(WIFSIGNALED(run.status));
  CHECK(WTERMSIG(run.status) == SIGABRT);
  CHECK(run.output.find("unparseable") != std::string::npos);
  const auto report = lab.waitForEntry(run.pid);
  REQUIRE(report.has_value());
  INFO(describe(*report));
  const v1::BacktraceThread* thread = crashedThread(*report);
  REQUIRE(thread != nullptr);
  CHECK(hasFrame(*thread, "crashers::Parser::parse(int)"));
  CHECK(hasFrame(*thread, "std::terminate()"));
  CHECK(report->fingerprint_basis().find("crashers::Parser::parse(int)") != std::string::npos);
}

TEST_CASE("coredump: a crash in a non-main thread is found in that thread") {
  CrashLab lab;
  CorePatternGuard pattern(lab.pattern());
  const CrasherRun run = runCrasher(crasherPath("thread_crash"));
  REQUIRE(WIFSIGNALED(run.status));
  CHECK(WTERMSIG(run.status) == SIGSEGV);
  const auto report = lab.waitForEntry(run.pid);
  REQUIRE(report.has_value());
  INFO(describe(*report));
  REQUIRE(report->backtrace().threads_size() == 2);
  const v1::BacktraceThread& first = report->backtrace().threads(0);
  CHECK(first.crashed());
  CHECK(first.tid() != run.pid);
  CHECK(first.tid() == report->process().ns_tid());
  REQUIRE(first.frames_size() > 0);
  CHECK(first.frames(0).function() == "crashing_worker_fault");
  CHECK(hasFrame(first, "crashing_worker"));
  const v1::BacktraceThread& main_thread = report->backtrace().threads(1);
  CHECK_FALSE(main_thread.crashed());
  CHECK(main_thread.tid() == run.pid);
  CHECK(hasFrame(main_thread, "main"));
  CHECK_FALSE(hasFrame(main_thread, "crashing_worker_fault"));
}

TEST_CASE("coredump: exit(3) after a line is no crash for the helper") {
  CrashLab lab;
  CorePatternGuard pattern(lab.pattern());
  const CrasherRun exited = runCrasher(crasherPath("exit3"));
  REQUIRE(WIFEXITED(exited.status));
  CHECK(WEXITSTATUS(exited.status) == 3);
  CHECK(exited.output == "crasher exit3: about to exit 3\n");
  // A crash after it: once its entry is there, any entry for exit3 would be too.
  const CrasherRun crashed = runCrasher(crasherPath("segv_deep"));
  REQUIRE(lab.waitForEntry(crashed.pid).has_value());
  CHECK_FALSE(lab.findEntry(exited.pid).has_value());
}

TEST_CASE("coredump: over core_size_max the core is not kept but the backtrace is") {
  CrashLab lab("\"core_size_max\": 65536");
  CorePatternGuard pattern(lab.pattern());
  const CrasherRun run = runCrasher(crasherPath("segv_deep"));
  REQUIRE(WIFSIGNALED(run.status));
  const auto report = lab.waitForEntry(run.pid);
  REQUIRE(report.has_value());
  INFO(describe(*report));
  const auto& core = report->core();
  CHECK(core.truncated());
  CHECK(core.state() == v1::CORE_STATE_TRUNCATED);
  CHECK(core.limit_bytes() == 65536);
  CHECK(core.raw_bytes() > 65536);
  CHECK(core.path().empty());
  CHECK(core.missing_reason().find("over the limit") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(lab.entryPath(*report) + "/core.zst"));
  // Kept: what unwinding needs (the head, small segments, the stack).
  const v1::BacktraceThread* thread = crashedThread(*report);
  REQUIRE(thread != nullptr);
  REQUIRE(thread->frames_size() >= 3);
  CHECK(thread->frames(0).function() == "level3");
  CHECK(thread->frames(1).function() == "level2");
}

TEST_CASE("coredump: RLIMIT_CORE 0 gives a metadata-only record") {
  CrashLab lab;
  CorePatternGuard pattern(lab.pattern());
  const CrasherRun run = runCrasher(crasherPath("segv_deep"), {}, {}, 0);
  REQUIRE(WIFSIGNALED(run.status));
  CHECK(WTERMSIG(run.status) == SIGSEGV);
  const auto report = lab.waitForEntry(run.pid);
  REQUIRE(report.has_value());
  INFO(describe(*report));
  CHECK(report->outcome() == v1::CAPTURE_OUTCOME_NO_CORE);
  CHECK(report->core().state() == v1::CORE_STATE_DISABLED);
  CHECK(report->core().missing_reason().find("RLIMIT_CORE") != std::string::npos);
  CHECK(report->core().raw_bytes() == 0);
  CHECK(report->process().exe() == crasherPath("segv_deep"));
  CHECK(report->signal() == SIGSEGV);
  CHECK_FALSE(std::filesystem::exists(lab.entryPath(*report) + "/core.zst"));
  // No core, no backtrace: the fingerprint falls back to exe and signal.
  CHECK(report->fingerprint_basis().find("exe " + crasherPath("segv_deep")) == 0);
}

TEST_CASE("coredump: garbage on stdin ends in an error report and exit 0") {
  CrashLab lab;
  // A live process stands in for the crashed one.
  const pid_t sleeper = ::fork();
  REQUIRE(sleeper >= 0);
  if (sleeper == 0) {
    ::execl("/bin/sleep", "sleep", "300", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string garbage(300000, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) {
    garbage[i] = static_cast<char>((i * 7919) >> 3);
  }
  const int status = runHelperByHand(lab,
                                     {std::to_string(sleeper), std::to_string(sleeper), "11",
                                      nowText(), "18446744073709551615", "testhost"},
                                     garbage);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  const auto report = lab.waitForEntry(sleeper);
  ::kill(sleeper, SIGKILL);
  ::waitpid(sleeper, nullptr, 0);
  REQUIRE(report.has_value());
  INFO(describe(*report));
  CHECK(report->outcome() == v1::CAPTURE_OUTCOME_FAILED);
  CHECK(report->process().comm() == "sleep");
  CHECK(report->core().raw_bytes() == garbage.size());
  CHECK(report->core().state() == v1::CORE_STATE_FAILED);
  CHECK(report->core().missing_reason().find("not an ELF core") != std::string::npos);
  bool said_why = false;
  for (const auto& error : report->errors()) {
    said_why = said_why || (error.stage() == "notes" &&
                            error.message().find("not an ELF file") != std::string::npos);
  }
  CHECK(said_why);
}

TEST_CASE("coredump: a vanished pid gives a clear report") {
  CrashLab lab;
  const pid_t gone = 1 << 23;  // above pid_max: no such process
  const int status = runHelperByHand(
      lab, {std::to_string(gone), std::to_string(gone), "11", nowText(), "0", "testhost"}, "");
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  const auto report = lab.waitForEntry(gone);
  REQUIRE(report.has_value());
  INFO(describe(*report));
  CHECK(report->outcome() == v1::CAPTURE_OUTCOME_FAILED);
  REQUIRE(report->errors_size() >= 1);
  CHECK(report->errors(0).stage() == "proc");
  CHECK(report->errors(0).message().find("no longer exists") != std::string::npos);
  CHECK(report->fingerprint().size() == 16);
}

TEST_CASE("coredump: the core is forwarded to the previous handler") {
  TempDir forward_dir;
  const std::string script = fileIn(forward_dir, "fwd.sh");
  writeFile(script, "#!/bin/sh\ncat > " + fileIn(forward_dir, "forwarded.core") +
                        "\necho \"$1 $2\" > " + fileIn(forward_dir, "forwarded.args.tmp") +
                        "\nmv " + fileIn(forward_dir, "forwarded.args.tmp") + " " +
                        fileIn(forward_dir, "forwarded.args") + "\n");
  REQUIRE(::chmod(script.c_str(), 0755) == 0);
  CrashLab lab("\"forward\": \"|" + script + " %P %s\"");
  CorePatternGuard pattern(lab.pattern());
  const CrasherRun run = runCrasher(crasherPath("segv_deep"));
  const auto report = lab.waitForEntry(run.pid);
  REQUIRE(report.has_value());
  INFO(describe(*report));
  CHECK(report->core().forwarded());
  CHECK(report->core().state() == v1::CORE_STATE_STORED);
  REQUIRE(pollUntil([&] { return !readFile(fileIn(forward_dir, "forwarded.args")).empty(); },
                    captureTimeout()));
  CHECK(readFile(fileIn(forward_dir, "forwarded.args")) ==
        std::to_string(run.pid) + " " + std::to_string(SIGSEGV) + "\n");
  CHECK(readFile(fileIn(forward_dir, "forwarded.core")).size() == report->core().raw_bytes());
}

TEST_CASE("coredump: a previous handler that does not read does not stop the capture") {
  CrashLab lab("\"forward\": \"|/bin/true %P\"");
  CorePatternGuard pattern(lab.pattern());
  const CrasherRun run = runCrasher(crasherPath("segv_deep"));
  const auto report = lab.waitForEntry(run.pid);
  REQUIRE(report.has_value());
  INFO(describe(*report));
  CHECK(report->core().state() == v1::CORE_STATE_STORED);
  CHECK(report->outcome() == v1::CAPTURE_OUTCOME_COMPLETE);
  REQUIRE(crashedThread(*report) != nullptr);
  CHECK(hasFrame(*crashedThread(*report), "level3"));
}

TEST_CASE("coredump: the per-fingerprint rate limit keeps reports, drops cores") {
  CrashLab lab("\"rate_limit\": {\"burst\": 1, \"interval\": \"3600s\"}");
  CorePatternGuard pattern(lab.pattern());
  const CrasherRun first = runCrasher(crasherPath("segv_deep"));
  const auto first_report = lab.waitForEntry(first.pid);
  REQUIRE(first_report.has_value());
  const CrasherRun second = runCrasher(crasherPath("segv_deep"));
  const auto second_report = lab.waitForEntry(second.pid);
  REQUIRE(second_report.has_value());
  INFO(describe(*second_report));
  CHECK(first_report->core().state() == v1::CORE_STATE_STORED);
  CHECK(second_report->fingerprint() == first_report->fingerprint());
  CHECK(second_report->core().state() == v1::CORE_STATE_RATE_LIMITED);
  CHECK(second_report->outcome() == v1::CAPTURE_OUTCOME_COMPLETE);
  // The core was being compressed next to the symbolizer: that work is dropped, file and all.
  CHECK(std::filesystem::exists(lab.spool() + "/" + first_report->id() + "/core.zst"));
  CHECK_FALSE(std::filesystem::exists(lab.spool() + "/" + second_report->id() + "/core.zst"));
  REQUIRE(crashedThread(*second_report) != nullptr);
  CHECK(hasFrame(*crashedThread(*second_report), "level3"));
}

}  // namespace
}  // namespace vigie::testing
