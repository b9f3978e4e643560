#pragma once

#include <functional>
#include <string_view>

#include "agent/logs/ring_buffer.h"
#include "agent/os/unique_fd.h"
#include "vigie/dispatcher.h"

namespace vigie {

// Drains one output pipe of an instance into its ring buffer, on the loop thread. Reads at most
// kMaxBytesPerWakeup per readiness event so that a flooding workload cannot starve the others:
// the level-triggered loop comes back for the rest after serving everyone else.
class OutputReader {
 public:
  static constexpr size_t kMaxBytesPerWakeup = size_t{64} * 1024;

  using Forward = std::function<void(std::string_view data)>;

  // `forward` (optional) also gets every chunk: the unit's log files and journald.
  OutputReader(Dispatcher& dispatcher, UniqueFd fd, RingBuffer& sink, Forward forward = {});
  OutputReader(const OutputReader&) = delete;
  OutputReader& operator=(const OutputReader&) = delete;

  bool open() const { return fd_.valid(); }

  // Reads what the pipe holds now, without waiting for the loop to report it: the instance has
  // exited, and its last lines must be in the tail before anyone reads the tail for its record.
  void drain();

 private:
  void onReadable();
  void close();

  UniqueFd fd_;
  RingBuffer& sink_;
  Forward forward_;
  FdWatchPtr watch_;
};

}  // namespace vigie
