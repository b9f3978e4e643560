#include "agent/os/orphans.h"

#include <sys/prctl.h>
#include <sys/wait.h>

namespace vigie {

Status becomeSubreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    return Error::fromErrno("prctl(PR_SET_CHILD_SUBREAPER)");
  }
  return Status::okStatus();
}

int reapOrphans() {
  int reaped = 0;
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG) != 0 || info.si_pid == 0) {
      return reaped;
    }
    ++reaped;
  }
}

}  // namespace vigie
