#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace vigie::coredump {

struct DrainPlan {
  // Bytes kept from the start of the core. Past it the core is truncated: only what unwinding
  // needs (see unwindRangesPast) is written, at its own offset, into a sparse file.
  uint64_t limit = 0;
  // At most this many bytes past `limit`.
  uint64_t unwind_budget = uint64_t{64} << 20;
  // A pipe to the previous core handler: every byte read is also copied there (tee), and the
  // input is then read to its end.
  int forward_fd = -1;
};

struct DrainResult {
  uint64_t received = 0;  // bytes read from the input
  uint64_t head = 0;      // bytes kept from the start, contiguous
  uint64_t extra = 0;     // bytes kept past the head (truncated cores)
  bool truncated = false;
  // Reading stopped before the end: nothing useful was left. `received` is then not the whole
  // core; `expected_size` (from the ELF headers) is.
  bool stopped_early = false;
  uint64_t expected_size = 0;
  std::optional<std::string> error;          // the input or the output failed
  std::optional<std::string> forward_error;  // the previous handler stopped reading
};

// Moves the core from `in_fd` (the kernel's pipe) into `out_fd`, a file, as fast as possible:
// splice() from the pipe to the file, no copy through user space; tee() first when forwarding.
// Falls back to read/write when `in_fd` is not a pipe.
DrainResult drainCore(int in_fd, int out_fd, const DrainPlan& plan);

}  // namespace vigie::coredump
