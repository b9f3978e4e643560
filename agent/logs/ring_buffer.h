#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vigie {

// The last `capacity` bytes written to it. Memory grows with what was written, up to capacity,
// so a quiet instance costs almost nothing and a flooding one costs exactly capacity.
class RingBuffer {
 public:
  explicit RingBuffer(size_t capacity) : capacity_(capacity) {}

  void append(std::string_view data);
  std::string contents() const;               // oldest byte first.
  std::string lastLines(size_t count) const;  // the last `count` lines, whole ones first.

  size_t size() const { return data_.size(); }
  size_t capacity() const { return capacity_; }
  uint64_t totalBytes() const { return total_; }  // ever appended, kept or not.

 private:
  size_t capacity_;
  std::string data_;
  size_t head_ = 0;  // once full: where the oldest byte is, and the next write goes.
  uint64_t total_ = 0;
};

}  // namespace vigie
