#include "agent/os/orphans.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "agent/os/proc_stat.h"

namespace vigie {

Status becomeSubreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    return Error::fromErrno("prctl(PR_SET_CHILD_SUBREAPER)");
  }
  return Status::okStatus();
}

namespace {

bool reapIfExited(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | __WALL) == 0 &&
         info.si_pid == pid;
}

// Every child of every thread of ours, from /proc/self/task/*/children.
template <class Visit>
void forEachChild(Visit visit) {
  DIR* tasks = ::opendir("/proc/self/task");
  if (tasks == nullptr) {
    return;
  }
  while (const dirent* task = ::readdir(tasks)) {
    if (task->d_name[0] == '.') {
      continue;
    }
    for (pid_t pid : readChildren(std::string("/proc/self/task/") + task->d_name + "/children")) {
      visit(pid);
    }
  }
  ::closedir(tasks);
}

}  // namespace

int reapOrphans(const std::function<bool(pid_t)>& is_tracked) {
  int reaped = 0;
  // Fast path: peek at the exited children one at a time without reaping.
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT | __WALL) != 0 || info.si_pid == 0) {
      return reaped;
    }
    if (is_tracked(info.si_pid)) {
      break;  // a tracked zombie hides whatever is behind it from P_ALL: list children instead.
    }
    if (reapIfExited(info.si_pid)) {
      ++reaped;
    }
  }
  forEachChild([&](pid_t pid) {
    if (!is_tracked(pid) && reapIfExited(pid)) {
      ++reaped;
    }
  });
  return reaped;
}

}  // namespace vigie
