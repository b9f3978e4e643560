#pragma once

#include "vigie/result.h"

namespace vigie {

// Makes the agent a child subreaper: processes its workloads orphan (daemonized grandchildren)
// are re-parented to it instead of PID 1, so their exit is reaped here and leaves no zombie.
Status becomeSubreaper();

// Reaps every orphan that has exited. Tracked children are started with exit signal 0 and reaped
// through their pidfds; waitid(P_ALL) without __WALL never sees them, so it cannot steal their
// exit status. Returns how many orphans were reaped.
int reapOrphans();

}  // namespace vigie
