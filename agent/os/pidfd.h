#pragma once

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace vigie {

// glibc 2.36's <sys/pidfd.h> lacks extern "C" guards, so C++ cannot link its wrappers: call the
// system calls directly.
inline int pidfdOpen(pid_t pid, unsigned int flags) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, flags));
}

inline int pidfdSendSignal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0U));
}

}  // namespace vigie
