#include "tests/integration/harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace vigie::testing {
namespace {

constexpr Duration kPollSlice = 10ms;
constexpr Duration kLoopSlice = 20ms;
constexpr Duration kTeardownTimeout = 6s;

// Pids to SIGKILL, with their groups, if the test binary itself crashes. Written by the test
// thread, read by the crash handler: a fixed array of atomics, no allocation.
constexpr size_t kCrashRegistrySize = 4096;
std::atomic<pid_t> crash_registry[kCrashRegistrySize];
std::atomic<size_t> crash_registry_next{0};
constexpr int kFatalSignals[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};

void onFatalSignal(int sig) {
  const size_t used = std::min(crash_registry_next.load(), kCrashRegistrySize);
  for (size_t i = 0; i < used; ++i) {
    const pid_t pid = crash_registry[i].load();
    if (pid > 0) {
      ::kill(-pid, SIGKILL);  // workloads lead their own group.
      ::kill(pid, SIGKILL);
    }
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Process-wide set-up, before any test runs:
// - the test process is a child subreaper, so a workload orphaned by a dying vigied becomes our
//   child and teardown can kill and reap it instead of leaving it to init;
// - no core files: SIGSEGV workloads must not litter "/" (their default cwd);
// - a crash of the test binary kills what it started (doctest's own handlers report the crash,
//   then restore these and re-raise).
struct ProcessSetup {
  ProcessSetup() {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
#ifndef VIGIE_HARNESS_KEEPS_CORE_LIMIT  // the incident tests need real cores.
    struct rlimit no_core {};
    ::setrlimit(RLIMIT_CORE, &no_core);
#endif
    for (int sig : kFatalSignals) {
      ::signal(sig, onFatalSignal);
    }
  }
};
const ProcessSetup process_setup;

bool envIs(const char* name, const char* value) {
  const char* got = std::getenv(name);
  return got != nullptr && std::strcmp(got, value) == 0;
}

// Parses /proc/PID/stat: the state letter and the parent pid, which follow the "(comm)".
bool readStat(pid_t pid, char& state, pid_t& ppid) {
  const std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  const size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) {
    return false;
  }
  std::istringstream rest(stat.substr(close + 2));
  long parent = 0;
  rest >> state >> parent;
  ppid = static_cast<pid_t>(parent);
  return static_cast<bool>(rest);
}

}  // namespace

std::string helperPath() {
  return std::string(VIGIE_HELPERS_DIR) + "/test_workload";
}
std::string vigiedPath() {
  return std::string(VIGIE_BIN_DIR) + "/vigied";
}

std::string helperExec(const std::vector<std::string>& args) {
  auto quoted = [](const std::string& text) { return "\"" + text + "\""; };
  std::string out = "    exec: [" + quoted(helperPath());
  for (const auto& arg : args) {
    out += ", " + quoted(arg);
  }
  return out + "]\n";
}

bool sanitizedBuild() {
  return envIs("VIGIE_SANITIZED", "1");
}

TempDir::TempDir() {
  std::string pattern = "/tmp/vigie-it-XXXXXX";
  REQUIRE(::mkdtemp(pattern.data()) != nullptr);
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  REQUIRE_MESSAGE(out.good(), "cannot write " << path);
}

std::vector<std::string> readLines(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(readFile(path));
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
  }
  return lines;
}

std::vector<pid_t> readPids(const std::string& path) {
  std::vector<pid_t> pids;
  for (const std::string& line : readLines(path)) {
    if (!line.empty()) {
      pids.push_back(static_cast<pid_t>(std::stol(line)));
    }
  }
  return pids;
}

bool pollUntil(const std::function<bool()>& pred, Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return pred();
    }
    std::this_thread::sleep_for(kPollSlice);
  }
  return true;
}

bool runUntil(EventLoop& loop, const std::function<bool()>& pred, Duration timeout) {
  const MonoTime deadline = loop.monotonicNow() + timeout;
  while (!pred()) {
    const MonoTime now = loop.monotonicNow();
    if (now >= deadline) {
      return pred();
    }
    loop.runOnce(std::min<Duration>(kLoopSlice, deadline - now));
  }
  return true;
}

std::optional<char> processState(pid_t pid) {
  char state = 0;
  pid_t ppid = 0;
  if (!readStat(pid, state, ppid)) {
    return std::nullopt;
  }
  return state;
}

std::optional<pid_t> parentOf(pid_t pid) {
  char state = 0;
  pid_t ppid = 0;
  if (!readStat(pid, state, ppid)) {
    return std::nullopt;
  }
  return ppid;
}

bool processAlive(pid_t pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0) {
    return false;
  }
  const std::optional<char> state = processState(pid);
  return state.has_value() && *state != 'Z' && *state != 'X';
}

std::vector<pid_t> childrenOf(pid_t parent) {
  std::vector<pid_t> children;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) {
    return children;
  }
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0') {
      continue;
    }
    char state = 0;
    pid_t ppid = 0;
    if (readStat(static_cast<pid_t>(pid), state, ppid) && ppid == parent) {
      children.push_back(static_cast<pid_t>(pid));
    }
  }
  ::closedir(dir);
  return children;
}

void killAndReapChildren() {
  // Killing a child may orphan its own children onto us: go again until none is left.
  for (int pass = 0; pass < 100; ++pass) {
    const std::vector<pid_t> children = childrenOf(::getpid());
    if (children.empty()) {
      return;
    }
    for (pid_t child : children) {
      ::kill(child, SIGKILL);
      while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
}

void registerForCrashCleanup(pid_t pid) {
  const size_t slot = crash_registry_next.fetch_add(1);
  if (slot < kCrashRegistrySize) {
    crash_registry[slot].store(pid);
  }
}

std::optional<uint64_t> residentBytes(pid_t pid) {
  std::istringstream in(readFile("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stoull(line.substr(6)) * 1024;
    }
  }
  return std::nullopt;
}

WorkloadSpec helperWorkload(const std::string& name, std::vector<std::string> args) {
  WorkloadSpec spec;
  spec.name = name;
  spec.exec.push_back(helperPath());
  for (auto& arg : args) {
    spec.exec.push_back(std::move(arg));
  }
  spec.stop.timeout = 2s;  // every mode but ignore-term dies on SIGTERM.
  return spec;
}

void RecordingObserver::onStateChanged(const Unit& unit, UnitState from, UnitState to) {
  ObservedEvent event;
  event.kind = ObservedEvent::Kind::kStateChanged;
  event.unit = unit.name();
  event.from = from;
  event.to = to;
  events_.push_back(std::move(event));
}

void RecordingObserver::onInstanceStarted(const Unit& unit, const InstanceRecord& instance) {
  registerForCrashCleanup(instance.pid);
  ObservedEvent event;
  event.kind = ObservedEvent::Kind::kStarted;
  event.unit = unit.name();
  event.instance_id = instance.id;
  event.pid = instance.pid;
  events_.push_back(std::move(event));
}

void RecordingObserver::onSpawnFailed(const Unit& unit, const InstanceRecord& instance) {
  ObservedEvent event;
  event.kind = ObservedEvent::Kind::kSpawnFailed;
  event.unit = unit.name();
  event.instance_id = instance.id;
  event.spawn_error = instance.spawn_error;
  events_.push_back(std::move(event));
}

void RecordingObserver::onInstanceEnded(const Unit& unit, const InstanceRecord& instance,
                                        const RestartDecision& decision, bool stopping) {
  ObservedEvent event;
  event.kind = ObservedEvent::Kind::kEnded;
  event.unit = unit.name();
  event.instance_id = instance.id;
  event.pid = instance.pid;
  event.exit = instance.exit;
  event.spawn_error = instance.spawn_error;
  event.decision = decision;
  event.stopping = stopping;
  events_.push_back(std::move(event));
}

std::vector<ObservedEvent> RecordingObserver::eventsOf(const std::string& unit,
                                                       ObservedEvent::Kind kind) const {
  std::vector<ObservedEvent> out;
  for (const ObservedEvent& event : events_) {
    if (event.unit == unit && event.kind == kind) {
      out.push_back(event);
    }
  }
  return out;
}

size_t RecordingObserver::count(const std::string& unit, ObservedEvent::Kind kind) const {
  size_t n = 0;
  for (const ObservedEvent& event : events_) {
    n += (event.unit == unit && event.kind == kind) ? 1 : 0;
  }
  return n;
}

bool RecordingObserver::enteredState(const std::string& unit, UnitState state) const {
  for (const ObservedEvent& event : events_) {
    if (event.unit == unit && event.kind == ObservedEvent::Kind::kStateChanged &&
        event.to == state) {
      return true;
    }
  }
  return false;
}

std::string RecordingObserver::stateTrail(const std::string& unit) const {
  std::string trail;
  for (const ObservedEvent& event : events_) {
    if (event.unit != unit) {
      continue;
    }
    switch (event.kind) {
      case ObservedEvent::Kind::kStateChanged:
        trail += std::string(unitStateName(event.to)) + " ";
        break;
      case ObservedEvent::Kind::kStarted:
        trail += "[start#" + std::to_string(event.instance_id) + "] ";
        break;
      case ObservedEvent::Kind::kSpawnFailed:
        trail +=
            "[spawn-failed#" + std::to_string(event.instance_id) + ": " + event.spawn_error + "] ";
        break;
      case ObservedEvent::Kind::kEnded:
        trail += "[end#" + std::to_string(event.instance_id) + " " +
                 (event.exit ? event.exit->describe() : std::string("no exit")) + "] ";
        break;
    }
  }
  return trail;
}

InProcessAgent::InProcessAgent(std::optional<std::vector<std::string>> base_env) {
  auto loop = EventLoop::create();
  REQUIRE_MESSAGE(loop.ok(), "EventLoop::create: " << loop.error().message);
  loop_ = std::move(*loop);
  auto spawner = LinuxProcessSpawner::create(*loop_);
  REQUIRE_MESSAGE(spawner.ok(), "LinuxProcessSpawner::create: " << spawner.error().message);
  spawner_ = std::move(*spawner);
  supervisor_ = std::make_unique<Supervisor>(
      *loop_, *spawner_, observer_, [] { return 0.5; },
      base_env ? std::move(*base_env) : Supervisor::workloadBaseEnv(environ));
}

InProcessAgent::~InProcessAgent() {
  // helperWorkload's stop.timeout is 2s: a stop that takes longer has gone wrong, and what
  // follows kills everything anyway.
  if (supervisor_) {
    stopAll(kTeardownTimeout);
  }
  // Unit destructors SIGKILL whatever still runs; the spawner and the loop go after the units
  // that use them. Then reap anything left, so that no process outlives the test.
  supervisor_.reset();
  spawner_.reset();
  killAndReapChildren();
  loop_.reset();
}

void InProcessAgent::load(std::vector<WorkloadSpec> workloads) {
  AgentConfig config;
  config.path = "in-process";
  config.workloads = std::move(workloads);
  supervisor_->load(config);
}

void InProcessAgent::loadYaml(const std::string& yaml) {
  const ConfigLoadResult loaded = loadConfigString(yaml, "inline.yaml");
  std::string errors;
  for (const ConfigError& error : loaded.errors) {
    errors += error.format() + "\n";
  }
  REQUIRE_MESSAGE(loaded.ok(), "config rejected:\n" << errors << yaml);
  supervisor_->load(loaded.config);
}

Unit& InProcessAgent::unit(const std::string& name) {
  Unit* unit = supervisor_->find(name);
  REQUIRE_MESSAGE(unit != nullptr, "no unit " << name);
  return *unit;
}

bool InProcessAgent::stopAll(Duration timeout) {
  // Shared, not captured by reference: the supervisor may outlive this frame with the callback.
  auto done = std::make_shared<bool>(false);
  supervisor_->stopAll([done] { *done = true; });
  return runUntil([done] { return *done; }, timeout);
}

bool outputDrained(const InstanceRecord& instance) {
  const bool out_open = instance.stdout_reader != nullptr && instance.stdout_reader->open();
  const bool err_open = instance.stderr_reader != nullptr && instance.stderr_reader->open();
  return !out_open && !err_open;
}

const InstanceRecord* lastEndedInstance(const Unit& unit) {
  const auto& instances = unit.instances();
  for (auto it = instances.rbegin(); it != instances.rend(); ++it) {
    if ((*it)->exit.has_value() || !(*it)->spawn_error.empty()) {
      return it->get();
    }
  }
  return nullptr;
}

DaemonProcess::DaemonProcess(const TempDir& dir, Options options) {
  static int serial = 0;
  const std::string stem = dir.file("vigied" + std::to_string(serial++));
  stdout_path_ = stem + ".stdout";
  stderr_path_ = stem + ".stderr";

  // Everything the child needs is prepared before the fork.
  const std::string program = options.program.empty() ? vigiedPath() : options.program;
  std::vector<std::string> argv_strings{program};
  argv_strings.insert(argv_strings.end(), options.args.begin(), options.args.end());
  std::vector<std::string> env_strings;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text(*entry);
    const std::string key = text.substr(0, text.find('='));
    bool drop = false;
    for (const auto& name : options.unset_env) {
      drop = drop || name == key;
    }
    for (const auto& [name, value] : options.extra_env) {
      drop = drop || name == key;
    }
    if (!drop) {
      env_strings.push_back(text);
    }
  }
  for (const auto& [name, value] : options.extra_env) {
    env_strings.push_back(name + "=" + value);
  }
  std::vector<char*> argv = execStrings(argv_strings);
  std::vector<char*> envp = execStrings(env_strings);

  const int out_fd = ::open(stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err_fd = ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE((out_fd >= 0 && err_fd >= 0 && null_fd >= 0));
  const pid_t parent = ::getpid();
  const int inherited = options.inherited_fd;

  const pid_t pid = ::fork();
  if (pid == 0) {
    // The test process is single-threaded: fork is safe; still, raw calls only from here.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);  // never outlive a killed test run.
    if (::getppid() != parent) {
      ::_exit(126);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(null_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    if (inherited >= 0) {
      const int leak = ::open("/dev/null", O_RDONLY);  // no CLOEXEC: vigied inherits it.
      if (leak >= 0 && leak != inherited) {
        ::dup2(leak, inherited);
        ::close(leak);
      }
    }
    ::execve(program.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out_fd);
  ::close(err_fd);
  ::close(null_fd);
  REQUIRE_MESSAGE(pid > 0, "fork: " << std::strerror(errno));
  pid_ = pid;
  registerForCrashCleanup(pid_);
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
  // The workloads of a killed vigied are orphaned onto us (child subreaper): kill them too.
  killAndReapChildren();
}

bool DaemonProcess::running() {
  if (reaped_) {
    return false;
  }
  const pid_t got = ::waitpid(pid_, &status_, WNOHANG);
  if (got == pid_) {
    reaped_ = true;
    return false;
  }
  return true;
}

bool DaemonProcess::waitExit(Duration timeout) {
  return pollUntil([this] { return !running(); }, timeout);
}

int DaemonProcess::exitCode() const {
  if (!reaped_ || !WIFEXITED(status_)) {
    return -1;
  }
  return WEXITSTATUS(status_);
}

std::string DaemonProcess::describeStatus() const {
  if (!reaped_) {
    return "still running";
  }
  if (WIFEXITED(status_)) {
    return "exit code " + std::to_string(WEXITSTATUS(status_));
  }
  if (WIFSIGNALED(status_)) {
    return "killed by signal " + std::to_string(WTERMSIG(status_));
  }
  return "status " + std::to_string(status_);
}

bool DaemonProcess::waitForLog(const std::string& needle, Duration timeout) {
  return pollUntil([&] { return stderrText().find(needle) != std::string::npos; }, timeout);
}

std::vector<std::string> daemonArgs(const TempDir& dir, const std::string& config_path) {
  // An ephemeral metrics port: agents side by side must not fight over 9464.
  // core_pattern is global to the host: only the crash tests (with their lock) install it.
  // Units' cgroups would share one parent between agents side by side (and a killed agent
  // leaves them behind): only the cgroup tests turn them on, each with a parent of its own.
  return {"--config",         config_path,
          "--state-dir",      dir.file("state"),
          "--socket",         dir.file("vigie.sock"),
          "--metrics-listen", "127.0.0.1:0",
          "--core-pattern",   "leave",
          "--cgroups",        "off"};
}

std::vector<std::string> linesContaining(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(needle) != std::string::npos) {
      out.push_back(line);
    }
  }
  return out;
}

pid_t loggedPid(const std::string& log, const std::string& unit, uint64_t instance_id) {
  const std::string needle =
      " " + unit + ": instance " + std::to_string(instance_id) + " started, pid ";
  const size_t at = log.find(needle);
  if (at == std::string::npos) {
    return 0;
  }
  return static_cast<pid_t>(std::atol(log.c_str() + at + needle.size()));
}

std::vector<char*> execStrings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) {
    pointers.push_back(s.data());
  }
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace vigie::testing
