#include "agent/os/process_hygiene.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "agent/os/pidfd.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "agent/os/unique_fd.h"

namespace vigie {

Status prepareAgentProcess() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
      const int opened = ::open("/dev/null", O_RDWR);  // lands on the lowest free fd: this one.
      if (opened != fd) {
        return Error::fromErrno("open /dev/null for fd " + std::to_string(fd));
      }
    }
  }
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) {
    return Error::fromErrno("opendir /proc/self/fd");
  }
  const int dir_fd = ::dirfd(dir);
  while (const dirent* entry = ::readdir(dir)) {
    const int fd = std::atoi(entry->d_name);
    if (fd > 2 && fd != dir_fd) {
      const int flags = ::fcntl(fd, F_GETFD);
      if (flags >= 0) {
        ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
      }
    }
  }
  ::closedir(dir);
  if (::signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
    return Error::fromErrno("signal(SIGPIPE)");
  }
  return Status::okStatus();
}

namespace {

bool kernelAtLeast(const std::string& release, int major, int minor) {
  int got_major = 0, got_minor = 0;
  if (std::sscanf(release.c_str(), "%d.%d", &got_major, &got_minor) != 2) {
    return false;
  }
  return got_major > major || (got_major == major && got_minor >= minor);
}

}  // namespace

KernelFeatures probeKernelFeatures() {
  KernelFeatures features;
  utsname uts{};
  if (::uname(&uts) == 0) {
    features.release = uts.release;
  }
  UniqueFd self(pidfdOpen(::getpid(), 0));
  features.pidfd = self.valid();
  // clone3 with a null argument fails with EFAULT/EINVAL where it exists, ENOSYS where not.
  features.clone3 = !(::syscall(SYS_clone3, nullptr, 0) == -1 && errno == ENOSYS);
  // An empty range closes nothing: 0 where the call exists.
  features.close_range = ::syscall(SYS_close_range, ~0U, ~0U, 0U) == 0;
  features.cgroup_kill = kernelAtLeast(features.release, 5, 14);
  return features;
}

std::string KernelFeatures::summary() const {
  auto yes = [](bool b) { return b ? "yes" : "no"; };
  return "kernel " + release + ": pidfd=" + yes(pidfd) + " clone3=" + yes(clone3) +
         " close_range=" + yes(close_range) + " cgroup.kill=" + yes(cgroup_kill);
}

}  // namespace vigie
