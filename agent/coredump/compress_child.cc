#include "agent/coredump/compress_child.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <string>
#include <utility>

#include "agent/coredump/file_io.h"

namespace vigie::coredump {
namespace {

// "<bytes_in> <bytes_out> <timed_out>\n<error>" (no error line when it went through).
std::string encode(const CompressResult& result) {
  char head[64];
  std::snprintf(head, sizeof(head), "%" PRIu64 " %" PRIu64 " %d\n", result.bytes_in,
                result.bytes_out, result.timed_out ? 1 : 0);
  return std::string(head) + result.error.value_or("");
}

CompressResult decode(const std::string& text) {
  CompressResult result;
  int timed_out = 0;
  if (std::sscanf(text.c_str(), "%" SCNu64 " %" SCNu64 " %d", &result.bytes_in, &result.bytes_out,
                  &timed_out) != 3) {
    result.error = "the compressor ended without a result";
    return result;
  }
  result.timed_out = timed_out != 0;
  if (const size_t newline = text.find('\n');
      newline != std::string::npos && newline + 1 < text.size()) {
    result.error = text.substr(newline + 1);
  }
  return result;
}

}  // namespace

Result<CompressChild> CompressChild::start(int in_fd, uint64_t length, int out_fd, int level,
                                           std::chrono::steady_clock::time_point deadline) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Error::fromErrno("pipe");
  }
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const pid_t pid = ::fork();
  if (pid < 0) {
    return Error::fromErrno("fork");
  }
  if (pid == 0) {
    // A crash in here must not come back as another core (as in the symbolizer).
    (void)::prctl(PR_SET_DUMPABLE, 0);
    const rlimit no_core{0, 0};
    (void)::setrlimit(RLIMIT_CORE, &no_core);
    const CompressResult result = compressZstd(in_fd, length, out_fd, level, deadline);
    (void)writeAll(write_end.get(), encode(result));
    ::_exit(0);
  }
  return CompressChild(pid, std::move(read_end));
}

CompressChild::CompressChild(CompressChild&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), result_(std::move(other.result_)) {}

CompressChild::~CompressChild() {
  cancel();
}

CompressResult CompressChild::wait() {
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(result_.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    text.append(buffer, static_cast<size_t>(n));
  }
  int status = 0;
  while (pid_ > 0 && ::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    CompressResult died;
    died.error = std::string("the compressor died (SIG") + (name != nullptr ? name : "?") + ")";
    return died;
  }
  return decode(text);
}

void CompressChild::cancel() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

}  // namespace vigie::coredump
