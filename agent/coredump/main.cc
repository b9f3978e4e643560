// vigie-coredump: the kernel's core_pattern helper. See docs/crash-capture.md.
//
//   |/usr/libexec/vigie/vigie-coredump [-c CONFIG] %P %i %s %t %c %h
//
// The crashed process stays alive until its core is read, so the helper reads /proc/PID, drains
// the core, lets the kernel go (detaches), and only then takes its time. It always exits 0:
// failures end up in the report.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "agent/coredump/capture.h"

namespace {

// The kernel starts helpers with only stdin open. Anything opened later must not land on fds
// 1 and 2, where a stray write (a library's diagnostic) would corrupt a file.
void ensureStandardFds() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) < 0) {
      const int null_fd = ::open("/dev/null", O_RDWR);
      if (null_fd >= 0 && null_fd != fd) {
        ::dup2(null_fd, fd);
        ::close(null_fd);
      }
    }
  }
}

// The kernel waits while the pipe has readers (core_pipe_limit): stdin goes, /dev/null comes.
void releaseCorePipe() {
  const int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd >= 0) {
    ::dup2(null_fd, STDIN_FILENO);
    ::close(null_fd);
  } else {
    ::close(STDIN_FILENO);
  }
}

// Double fork: the process the kernel started exits now; a grandchild in a session of its own
// finishes the capture. Returns false in the processes that must exit.
bool detach() {
  const pid_t child = ::fork();
  if (child != 0) {
    return false;  // the kernel's helper (or fork failed: then finish in-line is impossible)
  }
  ::setsid();
  const pid_t grandchild = ::fork();
  if (grandchild != 0) {
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  ensureStandardFds();
  // A previous handler (forward) or vigied may go away mid-write: an error, not a death.
  ::signal(SIGPIPE, SIG_IGN);
  ::umask(077);
  vigie::coredump::HelperArgs args = vigie::coredump::parseHelperArgs(argc, argv);
  if (args.help) {
    std::fputs(vigie::coredump::kHelperUsage, stdout);
    return 0;
  }
  vigie::coredump::LoadedConfig config = vigie::coredump::loadHelperConfig(args.config_path);
  vigie::coredump::Capture capture(std::move(args), std::move(config));
  capture.collect(STDIN_FILENO);
  releaseCorePipe();
  if (!detach()) {
    // No destructors: the capture (its spool entry) belongs to the grandchild now.
    ::_exit(0);
  }
  capture.finish();
  return 0;
}
