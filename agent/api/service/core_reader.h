#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "agent/os/unique_fd.h"
#include "vigie/result.h"

namespace vigie {

// Reads a stored core for DownloadCore, chunk by chunk: the file as it is (the zstd frame the
// helper wrote), or decompressed through a streaming zstd decoder. Memory stays bounded by the
// chunk and the decoder's window, whatever the core's size. Not thread-safe: one stream's
// reactor calls it, one write at a time.
class CoreReader {
 public:
  CoreReader(UniqueFd fd, bool decompress);
  ~CoreReader();
  CoreReader(const CoreReader&) = delete;
  CoreReader& operator=(const CoreReader&) = delete;

  // The next at most `max` bytes; empty at the end. An error when the file cannot be read, or
  // when its zstd frame is corrupt or cut short.
  Result<std::string> next(size_t max);

 private:
  struct Decoder;

  Result<std::string> nextDecompressed(size_t max);
  // Refills the input buffer; false at the end of the file.
  Result<bool> refill();

  UniqueFd fd_;
  std::unique_ptr<Decoder> decoder_;  // null: no decompression.
  std::vector<char> input_;
  size_t input_pos_ = 0;
  size_t input_size_ = 0;
  bool eof_ = false;
  bool frame_done_ = true;  // no frame begun, or the last one ended: the end may come here.
};

}  // namespace vigie
