#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace vigie::coredump {

struct CompressResult {
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  bool timed_out = false;
  std::optional<std::string> error;
  bool ok() const { return !timed_out && !error; }
};

// Compresses `length` bytes of `in_fd` (from offset 0) into `out_fd` as one zstd frame with a
// checksum and the content size, streaming through fixed buffers (bounded memory whatever the
// core's size). Stops at `deadline` (the output is then incomplete: the caller drops it).
CompressResult compressZstd(int in_fd, uint64_t length, int out_fd, int level,
                            std::chrono::steady_clock::time_point deadline);

}  // namespace vigie::coredump
