#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace vigie {

// Cuts one output stream into lines for journald. An unterminated tail waits for its newline;
// a line longer than max_line goes out in pieces of max_line bytes (journald's own stdout
// transport does the same at LineMax=48K), so one endless line cannot grow memory. A partial
// line never joins data of another instance: an instance boundary ends the line.
class LineSplitter {
 public:
  using OnLine = std::function<void(uint64_t instance_id, std::string_view line)>;

  explicit LineSplitter(size_t max_line);

  void feed(uint64_t instance_id, std::string_view data, const OnLine& on_line);
  // Emits the partial line, if any.
  void flush(const OnLine& on_line);
  size_t partialSize() const { return partial_.size(); }

 private:
  size_t max_line_;
  std::string partial_;
  uint64_t partial_instance_ = 0;
};

}  // namespace vigie
