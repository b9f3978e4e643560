#pragma once

#include <string>

#include "vigie/result.h"

namespace vigie {

// What the agent does to its own process at start, before any thread exists.
// - fds 0, 1 and 2 are open (on /dev/null if they were closed), so no pipe of ours lands there;
// - every other inherited fd is CLOEXEC, so no workload inherits it;
// - SIGPIPE is ignored: a closed pipe is an error value, not a death.
Status prepareAgentProcess();

// Kernel features probed once at start; vigie needs pidfd (5.3+) and runs on 5.4.
struct KernelFeatures {
  std::string release;       // uname -r
  bool pidfd = false;        // pidfd_open, CLONE_PIDFD, waitid(P_PIDFD)
  bool clone3 = false;       // needed for CLONE_INTO_CGROUP
  bool close_range = false;  // else the child relies on CLOEXEC alone
  bool cgroup_kill = false;  // cgroup.kill (5.14+)

  std::string summary() const;  // "pidfd=yes clone3=yes close_range=yes cgroup.kill=no"
};

KernelFeatures probeKernelFeatures();

}  // namespace vigie
