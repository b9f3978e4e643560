#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/os/unique_fd.h"
#include "vigie/result.h"

namespace vigie {

// One output stream's files: <dir>/<name>.log, the live one, and its rotated predecessors
// <name>.log.1 (the newest) to <name>.log.<max_files-1>. No file ever grows past max_size.
// Used by one thread only (the log writer); every call may block on the disk.
class RotatingFile {
 public:
  struct Limits {
    uint64_t max_size = 0;
    uint32_t max_files = 1;  // the live file included.
  };

  // What an append did. On error the rest of the data was not written.
  struct Outcome {
    uint64_t bytes_written = 0;
    uint32_t rotations = 0;
    std::optional<Error> error;
  };

  RotatingFile(std::string dir, std::string name, Limits limits);

  void setLimits(Limits limits);
  Outcome append(std::string_view data);
  // Whether the next byte starts a line, as far as we know: markers must not glue onto the tail
  // of an unterminated line.
  bool atLineStart() const { return at_line_start_; }
  void close() { fd_.reset(); }

  std::string livePath() const;
  std::string rotatedPath(uint32_t index) const;

 private:
  Status ensureOpen();
  Status writeAll(std::string_view data, Outcome& outcome);
  Status rotate();

  std::string dir_;
  std::string name_;
  Limits limits_;
  UniqueFd fd_;
  uint64_t size_ = 0;  // of the live file, while fd_ is open.
  bool at_line_start_ = true;
};

}  // namespace vigie
