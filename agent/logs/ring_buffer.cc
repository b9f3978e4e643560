#include "agent/logs/ring_buffer.h"

#include <algorithm>

namespace vigie {

void RingBuffer::append(std::string_view data) {
  total_ += data.size();
  if (capacity_ == 0) {
    return;
  }
  if (data.size() >= capacity_) {
    data.remove_prefix(data.size() - capacity_);
    data_.assign(data);
    head_ = 0;
    return;
  }
  if (data_.size() < capacity_) {
    const size_t fits = std::min(capacity_ - data_.size(), data.size());
    data_.append(data.substr(0, fits));
    data.remove_prefix(fits);
  }
  while (!data.empty()) {
    const size_t chunk = std::min(capacity_ - head_, data.size());
    data_.replace(head_, chunk, data.substr(0, chunk));
    head_ = (head_ + chunk) % capacity_;
    data.remove_prefix(chunk);
  }
}

std::string RingBuffer::contents() const {
  if (data_.size() < capacity_ || head_ == 0) {
    return data_;
  }
  std::string out;
  out.reserve(data_.size());
  out.append(data_, head_, std::string::npos);
  out.append(data_, 0, head_);
  return out;
}

std::string RingBuffer::lastLines(size_t count) const {
  std::string all = contents();
  if (count == 0) {
    return {};
  }
  // A trailing newline ends the last line; it does not start an empty one.
  size_t end = all.size();
  if (end > 0 && all[end - 1] == '\n') {
    --end;
  }
  size_t start = end;
  size_t found = 0;
  while (start > 0) {
    if (all[start - 1] == '\n' && ++found == count) {
      break;
    }
    --start;
  }
  return all.substr(start);
}

}  // namespace vigie
