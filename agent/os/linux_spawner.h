#pragma once

#include <signal.h>

#include <memory>
#include <unordered_set>

#include "agent/os/unique_fd.h"
#include "vigie/dispatcher.h"
#include "vigie/process.h"

namespace vigie {

// Starts processes with clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD), or clone3 with the same flags
// plus CLONE_INTO_CGROUP when the spec names a cgroup2 directory: the child shares our
// memory until it execs, so everything is prepared before the clone and the child only makes raw
// system calls. An exec error is written into memory the parent reads once the child is gone
// (the vfork suspends us until then), which is what a CLOEXEC error pipe would report, minus
// the pipe. Exits are watched through the pidfd on the dispatcher.
class LinuxProcessSpawner final : public ProcessSpawner {
 public:
  static Result<std::unique_ptr<LinuxProcessSpawner>> create(Dispatcher& dispatcher);
  ~LinuxProcessSpawner() override;

  Result<ProcessPtr> spawn(const SpawnSpec& spec, Process::ExitCallback on_exit) override;
  bool isTracked(pid_t pid) const override { return tracked_.count(pid) != 0; }
  Result<ProcessPtr> adopt(pid_t pid, Process::ExitCallback on_exit) override;

 private:
  LinuxProcessSpawner(Dispatcher& dispatcher, UniqueFd dev_null, void* stack, size_t stack_size,
                      const sigset_t& reset_signals);

  Dispatcher& dispatcher_;
  UniqueFd dev_null_;
  void* stack_;  // the child's stack, reused: only one child at a time runs on it.
  size_t stack_size_;
  sigset_t reset_signals_;             // signals whose disposition the child resets to SIG_DFL.
  bool clone3_into_cgroup_ = true;     // until clone3 or CLONE_INTO_CGROUP proves missing.
  std::unordered_set<pid_t> tracked_;  // started and not yet reaped.
};

// Resolves argv[0] the way execvp would, before the fork: a name with a '/' is used as is,
// a bare name is searched in `path_env` (the PATH of the child's environment).
Result<std::string> resolveExecutable(const std::string& name, const std::string& path_env);

}  // namespace vigie
