#include "agent/logs/output_reader.h"

#include <unistd.h>

#include <array>
#include <cerrno>

namespace vigie {

OutputReader::OutputReader(Dispatcher& dispatcher, UniqueFd fd, RingBuffer& sink, Forward forward)
    : fd_(std::move(fd)), sink_(sink), forward_(std::move(forward)) {
  if (fd_) {
    watch_ = dispatcher.watchFd(fd_.get(), kFdReadable, [this](uint32_t) { onReadable(); });
    if (!watch_) {
      close();
    }
  }
}

void OutputReader::onReadable() {
  std::array<char, size_t{16} * 1024> chunk;
  size_t budget = kMaxBytesPerWakeup;
  while (budget > 0) {
    const ssize_t n = ::read(fd_.get(), chunk.data(), std::min(chunk.size(), budget));
    if (n > 0) {
      const std::string_view data(chunk.data(), static_cast<size_t>(n));
      sink_.append(data);
      if (forward_) {
        forward_(data);
      }
      budget -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      return;
    }
    close();  // EOF: every writer (the instance and anything it forked) is gone.
    return;
  }
}

void OutputReader::drain() {
  if (fd_) {
    onReadable();  // one wake-up's budget is a default pipe's whole capacity.
  }
}

void OutputReader::close() {
  watch_.reset();
  fd_.reset();
}

}  // namespace vigie
