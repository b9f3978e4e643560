#pragma once

#include <sys/types.h>

#include <functional>

#include "vigie/result.h"

namespace vigie {

// Makes the agent a child subreaper: processes its workloads orphan (daemonized grandchildren)
// are re-parented to it instead of PID 1, so their exit is reaped here and leaves no zombie.
Status becomeSubreaper();

// Reaps every exited child for which `is_tracked` is false, and never touches a tracked one: a
// tracked child's exit status belongs to its pidfd watcher. (exec resets a child's exit signal
// to SIGCHLD, so tracked children and orphans cannot be told apart by wait flags.) Returns how
// many orphans were reaped.
int reapOrphans(const std::function<bool(pid_t)>& is_tracked);

}  // namespace vigie
