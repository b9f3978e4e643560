#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>

#include "agent/coredump/compressor.h"
#include "agent/os/unique_fd.h"
#include "vigie/result.h"

namespace vigie::coredump {

// compressZstd() in a child process, so that the core is compressed while the symbolizer (in
// a child of its own) unwinds it: a capture then takes max(symbolize, compress) after the
// drain, not their sum. Whether the core is kept is only known once the backtrace is there
// (the rate limit counts cores per fingerprint); when it is not, cancel() kills the child, and
// at most the symbolization's duration of compression was spent for nothing.
//
// fork() without exec: the helper has a single thread, so the child may do anything.
class CompressChild {
 public:
  // Starts compressing `length` bytes of `in_fd` into `out_fd` (see compressZstd).
  static Result<CompressChild> start(int in_fd, uint64_t length, int out_fd, int level,
                                     std::chrono::steady_clock::time_point deadline);

  CompressChild(CompressChild&& other) noexcept;
  CompressChild& operator=(CompressChild&&) = delete;
  CompressChild(const CompressChild&) = delete;
  ~CompressChild();  // cancel() unless waited for.

  // Waits for the child and returns what it did. A child that died says so in `error`.
  CompressResult wait();
  // Kills the child and reaps it; what it wrote is the caller's to remove.
  void cancel();

 private:
  CompressChild(pid_t pid, UniqueFd result) : pid_(pid), result_(std::move(result)) {}

  pid_t pid_ = -1;
  UniqueFd result_;  // the child writes its CompressResult here, then exits
};

}  // namespace vigie::coredump
