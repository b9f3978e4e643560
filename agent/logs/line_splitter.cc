#include "agent/logs/line_splitter.h"

#include <algorithm>

namespace vigie {

LineSplitter::LineSplitter(size_t max_line) : max_line_(std::max<size_t>(max_line, 1)) {}

void LineSplitter::feed(uint64_t instance_id, std::string_view data, const OnLine& on_line) {
  if (!partial_.empty() && partial_instance_ != instance_id) {
    flush(on_line);
  }
  partial_instance_ = instance_id;
  while (!data.empty()) {
    const size_t newline = data.find('\n');
    const bool ended = newline != std::string_view::npos;
    std::string_view piece = data.substr(0, newline);
    data.remove_prefix(ended ? newline + 1 : data.size());
    while (partial_.size() + piece.size() > max_line_) {
      if (partial_.empty()) {
        on_line(instance_id, piece.substr(0, max_line_));
        piece.remove_prefix(max_line_);
      } else {
        const size_t room = max_line_ - partial_.size();
        partial_.append(piece.substr(0, room));
        piece.remove_prefix(room);
        on_line(instance_id, partial_);
        partial_.clear();
      }
    }
    if (!ended) {
      partial_.append(piece);
    } else if (partial_.empty()) {
      on_line(instance_id, piece);  // the common case: no copy.
    } else {
      partial_.append(piece);
      on_line(instance_id, partial_);
      partial_.clear();
    }
  }
}

void LineSplitter::flush(const OnLine& on_line) {
  if (partial_.empty()) {
    return;
  }
  on_line(partial_instance_, partial_);
  partial_.clear();
}

}  // namespace vigie
