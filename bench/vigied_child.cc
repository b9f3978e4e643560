#include "vigied_child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

#include "agent/os/unique_fd.h"
#include "api_bench_util.h"

extern char** environ;  // NOLINT(readability-identifier-naming): POSIX name.

namespace vigie::bench {
namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;
constexpr int64_t kStopPollNs = 5'000'000;

// Ours with `extra` ("NAME=value") added; an extra entry replaces ours of the same name.
std::vector<std::string> environmentWith(const std::vector<std::string>& extra) {
  std::vector<std::string> out;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view name(*entry, std::strcspn(*entry, "="));
    bool replaced = false;
    for (const std::string& added : extra) {
      replaced =
          replaced || (added.size() > name.size() && added.compare(0, name.size(), name) == 0 &&
                       added[name.size()] == '=');
    }
    if (!replaced) {
      out.emplace_back(*entry);
    }
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

std::vector<char*> pointersTo(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& text : strings) {
    out.push_back(text.data());
  }
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::vector<std::string> vigiedArgs(const std::string& vigied, const std::string& config,
                                    const std::string& state_dir, const std::string& socket) {
  return {vigied,     "--config", config,           "--state-dir", state_dir,
          "--socket", socket,     "--core-pattern", "leave"};
}

Result<VigiedChild> VigiedChild::start(const VigiedChildOptions& options) {
  if (options.args.empty()) {
    return Error{"no vigied to start"};
  }
  // Everything the child needs is made here: after fork in a process with threads (gRPC's),
  // only async-signal-safe calls are allowed.
  std::vector<std::string> args = options.args;
  std::vector<std::string> env = environmentWith(options.env);
  std::vector<char*> argv = pointersTo(args);
  std::vector<char*> envp = pointersTo(env);
  const int mode = O_WRONLY | O_CREAT | O_CLOEXEC | (options.append_log ? O_APPEND : O_TRUNC);
  const UniqueFd log_fd(open(options.log.c_str(), mode, 0644));
  if (!log_fd) {
    return Error::fromErrno("open " + options.log);
  }
  const pid_t parent = getpid();
  // fork rather than posix_spawn: the child must ask for SIGTERM when we die, so that a killed
  // benchmark does not leave a supervisor behind. Its own start is not measured.
  const pid_t pid = fork();
  if (pid < 0) {
    return Error::fromErrno("fork");
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) {
      _exit(127);
    }
    if (options.own_group) {
      setpgid(0, 0);
    }
    if (options.null_stdin) {
      const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (null_fd >= 0) {
        dup2(null_fd, STDIN_FILENO);  // the copy on fd 0 does not inherit O_CLOEXEC.
      }
    }
    dup2(log_fd.get(), STDOUT_FILENO);
    dup2(log_fd.get(), STDERR_FILENO);
    // Whatever our own caller leaked to us (shells and CI runners do) is not vigied's business.
    close_range(3, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  return VigiedChild(pid, options.stop_grace_ns, options.own_group);
}

VigiedChild::VigiedChild(VigiedChild&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      stop_grace_ns_(other.stop_grace_ns_),
      own_group_(other.own_group_) {}

std::optional<int> VigiedChild::exited() {
  int status = 0;
  if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return status;
  }
  return std::nullopt;
}

Result<int> VigiedChild::stop() {
  if (pid_ <= 0) {
    return 0;
  }
  const pid_t pid = std::exchange(pid_, -1);
  kill(pid, SIGTERM);
  // Polled: how long the stop takes is not measured, and a benchmark's signal handlers make a
  // blocking wait end early anyway.
  for (const int64_t deadline = monoNs() + stop_grace_ns_; monoNs() < deadline;) {
    int status = 0;
    const pid_t reaped = waitpid(pid, &status, WNOHANG);
    if (reaped == pid) {
      return status;
    }
    if (reaped < 0 && errno != EINTR) {
      return 0;
    }
    const timespec pause{0, kStopPollNs};
    nanosleep(&pause, nullptr);
  }
  kill(own_group_ ? -pid : pid, SIGKILL);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return Error{"vigied did not exit within " + std::to_string(stop_grace_ns_ / kNsPerSec) +
               " s of SIGTERM; killed " + (own_group_ ? "its process group" : "it")};
}

}  // namespace vigie::bench
