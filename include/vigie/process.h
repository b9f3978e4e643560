#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cerrno>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vigie/result.h"
#include "vigie/time.h"

namespace vigie {

// Everything needed to start one instance, prepared before the fork.
// The identity a workload runs as, resolved from names before the fork (NSS may allocate, open
// files or talk to daemons: none of that may happen in the child).
struct Credentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups.
  std::string user;
  std::string home;
};

struct ResourceLimit {
  int resource = 0;
  uint64_t soft = 0;
  uint64_t hard = 0;
};

// Where a new process goes in the cgroup tree. The fds belong to the unit's cgroup, which keeps
// them open for as long as it exists: nothing is opened on the restart path.
struct CgroupPlacement {
  // A cgroup2 directory: clone3(CLONE_INTO_CGROUP) starts the child in it.
  int cgroup2_dir_fd = -1;
  // Its cgroup.procs, which the child writes "0" into when clone3 is unavailable.
  int cgroup2_procs_fd = -1;
  // v1 cgroup.procs files the child writes "0" into before exec.
  std::vector<int> v1_procs_fds;

  bool empty() const { return cgroup2_dir_fd < 0 && v1_procs_fds.empty(); }
};

// An OCI container started instead of exec'ing argv (agent/runtime): the runtime creates and
// starts the container, then exits, and the container's process is supervised in its place.
struct ContainerLaunch {
  std::string runtime;     // the runtime's executable: runc or crun.
  std::string state_root;  // the runtime's --root, which holds vigied's containers only.
  std::string bundle;      // the directory holding config.json.
  std::string work_dir;    // each instance's pid file and runtime log.
  std::string name;        // the unit's: container ids are "<name>-<agent nonce>-<serial>".
  bool init = false;       // an init (tini, catatonit) is PID 1, the workload its child.
};

struct SpawnSpec {
  std::vector<std::string> argv;           // argv[0] may be a bare name: looked up in PATH.
  std::vector<std::string> env;            // complete environment, "KEY=value".
  std::string cwd;                         // empty: inherit.
  bool capture_output = true;              // stdout/stderr to pipes (else /dev/null).
  std::optional<Credentials> credentials;  // unset: run as the agent's user.
  uint32_t umask = 022;
  std::vector<ResourceLimit> rlimits;
  std::optional<int> oom_score_adj;
  CgroupPlacement cgroup;  // empty: the agent's own cgroups.
  // Set: argv is not used; the runtime runs the container (as root, in `cgroup`) with this
  // spec's environment, rlimits and output pipes, which the container's process inherits.
  std::optional<ContainerLaunch> container;
};

// How a process ended, as waitid() reports it, with its resource usage.
struct ExitStatus {
  // kLost: the process is gone but its status was reaped by someone else (it should not happen;
  // it is reported rather than waited for forever).
  enum class Kind { kExited, kKilled, kDumped, kLost };
  Kind kind = Kind::kExited;
  int code = 0;    // exit code for kExited.
  int signal = 0;  // terminating signal for kKilled and kDumped.
  struct rusage usage {};
  MonoTime at_mono{};
  WallTime at_wall{};
  // Set when an OCI runtime failed to create or start the container (a bad bundle, a missing
  // rootfs): the workload never ran, and `code` is the runtime's, not the workload's.
  std::string runtime_error{};

  bool coreDumped() const { return kind == Kind::kDumped; }
  bool bySignal() const { return kind == Kind::kKilled || kind == Kind::kDumped; }
  std::string describe() const;  // "exit code 1", "signal SIGSEGV (core dumped)"
};

// A started process, held through a pidfd so a reused PID never gets our signals.
class Process {
 public:
  using ExitCallback = std::function<void(const ExitStatus&)>;

  virtual ~Process() = default;
  virtual pid_t pid() const = 0;
  // Start time in clock ticks since boot (/proc/PID/stat field 22): with the pid it names the
  // process across agent restarts.
  virtual uint64_t startTicks() const = 0;
  virtual bool exited() const = 0;
  // Signals the process, or its whole process group (the process leads its own session).
  // Both are no-ops once the process has been reaped.
  virtual Status signal(int sig) = 0;
  virtual Status signalGroup(int sig) = 0;
  // Read ends of the stdout and stderr pipes; the caller takes ownership. -1 when not captured.
  virtual int takeStdout() = 0;
  virtual int takeStderr() = 0;
  // Whether an OCI runtime is still creating the workload's process (pid() is then the
  // runtime's). `on_running` runs once, on the loop, when the workload's process exists and
  // pid() names it; not at all when the launch fails (the exit callback says why).
  virtual bool launching() const { return false; }
  // NOLINTNEXTLINE(performance-unnecessary-value-param): overrides keep the callback.
  virtual void onRunning(std::function<void()> /*on_running*/) {}
};
using ProcessPtr = std::unique_ptr<Process>;

// Starts processes. The exit callback runs on the loop thread once the process is reaped;
// before reaping, any process left in its group is SIGKILLed so nothing of it outlives it.
class ProcessSpawner {
 public:
  virtual ~ProcessSpawner() = default;
  virtual Result<ProcessPtr> spawn(const SpawnSpec& spec, Process::ExitCallback on_exit) = 0;
  // Whether `pid` is a started, not yet reaped process of ours: the orphan reaper skips those.
  virtual bool isTracked(pid_t pid) const = 0;
  // Supervises an existing child of ours (one re-parented to us as subreaper) through a pidfd,
  // like a spawned process but without output pipes.
  // NOLINTNEXTLINE(performance-unnecessary-value-param): overrides keep the callback.
  virtual Result<ProcessPtr> adopt(pid_t /*pid*/, Process::ExitCallback /*on_exit*/) {
    return Error{"this spawner cannot adopt processes", ENOTSUP};
  }
};

}  // namespace vigie
