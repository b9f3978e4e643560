// Shared helpers for the integration tests: real processes, real signals, real binaries.
//
// Layer A (in-process): InProcessAgent wires a real EventLoop, a real LinuxProcessSpawner and a
// Supervisor that reports to a RecordingObserver; the test drives the loop with runUntil().
// Layer B (black-box): DaemonProcess runs build/bin/vigied with a temporary config and state dir.
//
// Every helper that starts something also stops it in its destructor, so that a failed REQUIRE
// (which throws) still leaves no process behind.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/event/event_loop.h"
#include "agent/os/linux_spawner.h"
#include "agent/supervisor/supervisor.h"
#include "agent/supervisor/unit.h"
#include "vigie/config.h"
#include "vigie/process.h"
#include "vigie/restart_policy.h"
#include "vigie/time.h"
#include "vigie/unit_lifecycle.h"

namespace vigie::testing {

// Generous deadlines: a noisy 2-core machine must not turn a slow run into a failure.
inline constexpr Duration kWaitTimeout = 15s;

std::string helperPath();  // build/tests/helpers/test_workload
std::string vigiedPath();  // build/bin/vigied
// `    exec: [...]` (a YAML line of a workload entry) running test_workload with `args`.
std::string helperExec(const std::vector<std::string>& args);

// True when the sanitizer lane runs us (VIGIE_SANITIZED=1): memory bounds are looser there.
bool sanitizedBuild();

// A fresh directory under /tmp, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// File helpers. readFile returns "" for a missing file.
std::string readFile(const std::string& path);
void writeFile(const std::string& path, const std::string& text);
std::vector<std::string> readLines(const std::string& path);
std::vector<pid_t> readPids(const std::string& path);  // one pid a line (test_workload pidfile)

// Polls `pred` every few milliseconds until it holds or `timeout` passes. For black-box tests,
// where there is no loop of ours to drive: condition-based, never a fixed sleep.
bool pollUntil(const std::function<bool()>& pred, Duration timeout = kWaitTimeout);

// Runs `loop` until `pred` holds or `timeout` passes; returns pred() at the end.
bool runUntil(EventLoop& loop, const std::function<bool()>& pred, Duration timeout = kWaitTimeout);

// Process helpers.
bool processAlive(pid_t pid);                 // exists and is not a zombie.
std::optional<char> processState(pid_t pid);  // /proc/PID/stat state letter.
std::optional<pid_t> parentOf(pid_t pid);     // /proc/PID/stat parent pid.
std::vector<pid_t> childrenOf(pid_t parent);  // from /proc/*/stat, zombies included.
// SIGKILLs and reaps every child of the test process (workloads orphaned to us, since the test
// process is a child subreaper, and anything else left). Call only when no spawner of ours
// still watches a live child.
void killAndReapChildren();
// Remembers a process (and its group) that a crash of the test binary must not leave behind:
// on SIGSEGV, SIGABRT, SIGBUS or SIGFPE, whatever was registered is SIGKILLed before the test
// process dies. RAII teardown covers every other way out of a test.
void registerForCrashCleanup(pid_t pid);
// VmRSS of `pid` in bytes, or nullopt when it cannot be read.
std::optional<uint64_t> residentBytes(pid_t pid);

// A workload running build/tests/helpers/test_workload with `args`.
WorkloadSpec helperWorkload(const std::string& name, std::vector<std::string> args);

// Everything a unit told its observer, in order.
struct ObservedEvent {
  enum class Kind { kStateChanged, kStarted, kSpawnFailed, kEnded };
  Kind kind = Kind::kStateChanged;
  std::string unit;
  UnitState from = UnitState::kStopped;
  UnitState to = UnitState::kStopped;
  uint64_t instance_id = 0;
  pid_t pid = 0;
  std::optional<ExitStatus> exit;
  std::string spawn_error;
  RestartDecision decision;
  bool stopping = false;
};

class RecordingObserver final : public UnitObserver {
 public:
  void onStateChanged(const Unit& unit, UnitState from, UnitState to) override;
  void onInstanceStarted(const Unit& unit, const InstanceRecord& instance) override;
  void onSpawnFailed(const Unit& unit, const InstanceRecord& instance) override;
  void onInstanceEnded(const Unit& unit, const InstanceRecord& instance,
                       const RestartDecision& decision, bool stopping) override;

  const std::vector<ObservedEvent>& events() const { return events_; }
  std::vector<ObservedEvent> eventsOf(const std::string& unit, ObservedEvent::Kind kind) const;
  size_t count(const std::string& unit, ObservedEvent::Kind kind) const;
  bool enteredState(const std::string& unit, UnitState state) const;
  // The state changes of `unit`, as "from->to" names, for failure messages.
  std::string stateTrail(const std::string& unit) const;

 private:
  std::vector<ObservedEvent> events_;
};

// A real supervisor on a real loop, driven by the test thread.
class InProcessAgent {
 public:
  // `base_env`: the environment workloads start from (default: this process's, filtered).
  explicit InProcessAgent(std::optional<std::vector<std::string>> base_env = std::nullopt);
  ~InProcessAgent();
  InProcessAgent(const InProcessAgent&) = delete;
  InProcessAgent& operator=(const InProcessAgent&) = delete;

  void load(std::vector<WorkloadSpec> workloads);
  void loadYaml(const std::string& yaml);  // REQUIREs a valid config.
  void startAll() { supervisor_->startAll(); }

  Unit& unit(const std::string& name);  // REQUIREs that it exists.
  EventLoop& loop() { return *loop_; }
  LinuxProcessSpawner& spawner() { return *spawner_; }
  Supervisor& supervisor() { return *supervisor_; }
  const RecordingObserver& observer() const { return observer_; }

  bool runUntil(const std::function<bool()>& pred, Duration timeout = kWaitTimeout) {
    return testing::runUntil(*loop_, pred, timeout);
  }
  // Stops every unit and runs the loop until all have settled.
  bool stopAll(Duration timeout = kWaitTimeout);

 private:
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<LinuxProcessSpawner> spawner_;
  RecordingObserver observer_;
  std::unique_ptr<Supervisor> supervisor_;
};

// Both output pipes of `instance` reached EOF: its tails hold everything it wrote.
bool outputDrained(const InstanceRecord& instance);
// The newest instance record whose process has ended (or failed to spawn), if any.
const InstanceRecord* lastEndedInstance(const Unit& unit);

// build/bin/vigied as a child of the test, with its stdout and stderr in files.
class DaemonProcess {
 public:
  struct Options {
    std::vector<std::string> args = {};
    std::vector<std::pair<std::string, std::string>> extra_env = {};  // set on top of ours.
    std::vector<std::string> unset_env = {};
    int inherited_fd = -1;     // when >= 0: an fd left open (no CLOEXEC) across the exec, as this.
    std::string program = {};  // default: vigiedPath().
  };

  // Starts `options.program` with stdout and stderr into files under `dir`. REQUIREs success.
  DaemonProcess(const TempDir& dir, Options options);
  ~DaemonProcess();  // SIGKILLs and reaps it if still there, then every orphan it left.
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();  // not yet reaped, and not a zombie.
  // Waits for its exit; true when it exited within `timeout` (then exitCode() is meaningful).
  bool waitExit(Duration timeout = kWaitTimeout);
  bool exited() const { return reaped_; }
  int rawStatus() const { return status_; }
  int exitCode() const;  // -1 unless it exited normally.
  std::string describeStatus() const;

  std::string stdoutText() const { return readFile(stdout_path_); }
  std::string stderrText() const { return readFile(stderr_path_); }
  bool waitForLog(const std::string& needle, Duration timeout = kWaitTimeout);

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string stdout_path_;
  std::string stderr_path_;
};

// The standard black-box command line: --config FILE --state-dir DIR/state --socket DIR/sock
// --metrics-listen 127.0.0.1:0 (vigied logs "metrics on http://127.0.0.1:PORT") --core-pattern
// leave --cgroups off.
std::vector<std::string> daemonArgs(const TempDir& dir, const std::string& config_path);

// argv/envp for execve: pointers into `strings` (which must outlive them), then a null.
std::vector<char*> execStrings(std::vector<std::string>& strings);

// Lines of `text` that contain `needle`.
std::vector<std::string> linesContaining(const std::string& text, const std::string& needle);
// The pid in the log line "NAME: instance ID started, pid PID", or 0 while there is none.
pid_t loggedPid(const std::string& log, const std::string& unit, uint64_t instance_id);

}  // namespace vigie::testing
