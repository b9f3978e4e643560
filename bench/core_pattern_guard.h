// The host's /proc/sys/kernel/core_pattern, saved when a crash bench starts and written back
// whatever way it ends: the guard's destructor (normal return, or an exception), exit(), and
// the signals that end a bench (SIGINT, SIGTERM, SIGHUP, SIGQUIT, and its own SIGSEGV, SIGABRT,
// SIGBUS, SIGFPE). A bench once left the host's pattern pointing at a helper in a deleted /tmp
// directory: after that, every crash on the host went nowhere.
//
// The signal path is async-signal-safe: the saved pattern sits in a static buffer and is
// written with open/write/close, then the signal is raised again with its default action.
// Signal handlers do not survive exec, so the crashers a bench starts are not affected.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace vigie::bench {

class CorePatternGuard {
 public:
  static constexpr const char* kPath = "/proc/sys/kernel/core_pattern";

  // Saves the current pattern. false when it cannot be read (then nothing is ever written).
  // A pattern that pipes to a program that is not there (left by a run that died, or saved by
  // a crash test running next to another bench) is not worth putting back: `core` is saved.
  bool save() {
    const int fd = ::open(kPath, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return false;
    }
    const ssize_t n = ::read(fd, saved_, sizeof(saved_) - 1);
    ::close(fd);
    if (n <= 0) {
      return false;
    }
    saved_length_ = static_cast<size_t>(n);
    if (const std::string dead = deadHelper(saved()); !dead.empty()) {
      std::fprintf(stderr,
                   "warning: core_pattern pipes to %s, which does not exist; \"core\" "
                   "will be put back at the end\n",
                   dead.c_str());
      std::memcpy(saved_, "core\n", 5);
      saved_length_ = 5;
    }
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGABRT, SIGBUS, SIGFPE}) {
      struct sigaction action {};
      action.sa_handler = onSignal;
      action.sa_flags = SA_RESETHAND;  // the default action comes back for the re-raise.
      sigemptyset(&action.sa_mask);
      ::sigaction(sig, &action, nullptr);
    }
    static bool registered = false;
    if (!registered) {
      registered = true;
      std::atexit([] { restore(); });
    }
    return true;
  }

  std::string saved() const { return std::string(saved_, saved_length_); }

  // The program of a pipe pattern ("|/path/helper args") when it cannot be run, else "".
  static std::string deadHelper(const std::string& pattern) {
    if (pattern.empty() || pattern[0] != '|') {
      return "";
    }
    const std::string program = pattern.substr(1, pattern.find_first_of(" \n", 1) - 1);
    return ::access(program.c_str(), X_OK) == 0 ? "" : program;
  }

  // Writes the saved pattern back (async-signal-safe). Harmless when it is already in place.
  static void restore() {
    if (saved_length_ == 0) {
      return;
    }
    const int fd = ::open(kPath, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      (void)!::write(fd, saved_, saved_length_);
      ::close(fd);
    }
  }

  CorePatternGuard() = default;
  ~CorePatternGuard() { restore(); }
  CorePatternGuard(const CorePatternGuard&) = delete;
  CorePatternGuard& operator=(const CorePatternGuard&) = delete;

 private:
  static void onSignal(int sig) {
    restore();
    ::raise(sig);  // SA_RESETHAND put the default action back: the bench ends as it would have.
  }

  // The kernel keeps at most 127 bytes of a pattern.
  static inline char saved_[256] = {};
  static inline size_t saved_length_ = 0;
};

}  // namespace vigie::bench
