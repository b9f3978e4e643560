#include "agent/metrics/loop_stall_knob.h"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

namespace vigie {

Result<std::unique_ptr<LoopStallKnob>> LoopStallKnob::open(Dispatcher& dispatcher,
                                                           const std::string& fifo_path) {
  UniqueFd read_end(::open(fifo_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!read_end) {
    return Error::fromErrno("open " + fifo_path);
  }
  UniqueFd keep_open(::open(fifo_path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!keep_open) {
    return Error::fromErrno("open " + fifo_path + " for writing");
  }
  std::unique_ptr<LoopStallKnob> knob(new LoopStallKnob(std::move(read_end), std::move(keep_open)));
  LoopStallKnob* self = knob.get();
  knob->watch_ = dispatcher.watchFd(knob->read_end_.get(), kFdReadable,
                                    [self](uint32_t) { self->onReadable(); });
  return knob;
}

LoopStallKnob::LoopStallKnob(UniqueFd read_end, UniqueFd keep_open)
    : read_end_(std::move(read_end)), keep_open_(std::move(keep_open)) {}

void LoopStallKnob::onReadable() {
  char buffer[64];
  const ssize_t n = ::read(read_end_.get(), buffer, sizeof(buffer));
  if (n <= 0) {
    return;
  }
  if (std::string_view(buffer, static_cast<size_t>(n)).find('s') != std::string_view::npos) {
    stallUntilReleased();
  }
}

void LoopStallKnob::stallUntilReleased() {
  spdlog::warn("test knob: the event loop stalls until released");
  for (;;) {
    pollfd entry{read_end_.get(), POLLIN, 0};
    if (::poll(&entry, 1, -1) < 0 && errno != EINTR) {
      break;
    }
    char buffer[64];
    const ssize_t n = ::read(read_end_.get(), buffer, sizeof(buffer));
    if (n > 0 &&
        std::string_view(buffer, static_cast<size_t>(n)).find('r') != std::string_view::npos) {
      break;
    }
  }
  spdlog::warn("test knob: the event loop runs again");
}

}  // namespace vigie
