#include "tests/integration/cli_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace vigie::testing {

std::string vigiectlPath() {
  return std::string(VIGIE_BIN_DIR) + "/vigiectl";
}

CliProcess::CliProcess(const TempDir& dir, const std::vector<std::string>& args,
                       const CliOptions& options) {
  static int serial = 0;
  const std::string stem = dir.file("vigiectl" + std::to_string(serial++));
  out_path_ = stem + ".stdout";
  err_path_ = stem + ".stderr";

  std::vector<std::string> argv_strings;
  if (options.as_nobody) {
    argv_strings = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
  }
  argv_strings.push_back(vigiectlPath());
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  description_ = "vigiectl";
  for (const auto& arg : args) {
    description_ += " " + arg;
  }
  std::vector<std::string> env_strings;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text(*entry);
    if (text.rfind("VIGIE_SOCKET=", 0) != 0) {
      env_strings.push_back(text);
    }
  }
  for (const auto& [name, value] : options.env) {
    env_strings.push_back(name + "=" + value);
  }
  std::vector<char*> argv = execStrings(argv_strings);
  std::vector<char*> envp = execStrings(env_strings);

  const int out_fd = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  const int err_fd = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE((out_fd >= 0 && err_fd >= 0 && null_fd >= 0));
  // nobody must be able to write its output files too.
  ::fchmod(out_fd, 0666);
  ::fchmod(err_fd, 0666);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (::getppid() != parent) {
      ::_exit(126);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(null_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out_fd);
  ::close(err_fd);
  ::close(null_fd);
  REQUIRE_MESSAGE(pid > 0, "fork: " << std::strerror(errno));
  pid_ = pid;
  registerForCrashCleanup(pid_);
}

void CliProcess::kill() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
}

bool CliProcess::waitExit(Duration timeout) {
  return pollUntil(
      [this] {
        if (!reaped_ && ::waitpid(pid_, &status_, WNOHANG) == pid_) {
          reaped_ = true;
        }
        return reaped_;
      },
      timeout);
}

bool CliProcess::running() {
  if (!reaped_ && ::waitpid(pid_, &status_, WNOHANG) == pid_) {
    reaped_ = true;
  }
  return !reaped_;
}

int CliProcess::exitCode() const {
  return reaped_ && WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
}

std::ostream& operator<<(std::ostream& stream, const CliResult& result) {
  return stream << result.command << " -> exit " << result.exit_code << "\n--- stdout\n"
                << result.out << "--- stderr\n"
                << result.err;
}

CliResult runCli(const TempDir& dir, const std::vector<std::string>& args,
                 const CliOptions& options, Duration timeout) {
  CliProcess process(dir, args, options);
  REQUIRE_MESSAGE(process.waitExit(timeout), process.description() << " did not finish");
  return {process.exitCode(), process.out(), process.err(), process.description()};
}

}  // namespace vigie::testing
