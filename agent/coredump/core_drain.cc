#include "agent/coredump/core_drain.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "agent/coredump/core_layout.h"
#include "agent/os/unique_fd.h"

namespace vigie::coredump {
namespace {

constexpr size_t kChunk = 1 << 20;
constexpr int kPipeSize = 1 << 20;  // the default pipe-max-size
constexpr int kForwardStallMs = 10000;

std::string errnoText(const char* what, int err) {
  return std::string(what) + ": " + std::strerror(err);
}

// One direction of the copy: from the input to `dst` at `offset` (or, with dst < 0, nowhere).
class Mover {
 public:
  Mover(int in_fd, int forward_fd, DrainResult& result)
      : in_fd_(in_fd), forward_fd_(forward_fd), result_(result) {}

  // Moves up to `length` bytes; returns how many (0 at the end of the input), or -1 on error
  // (in result_.error).
  ssize_t move(int dst, uint64_t offset, size_t length) {
    if (forward_fd_ >= 0 && use_splice_) {
      length = teeToForward(length);
    }
    if (use_splice_) {
      const ssize_t n = spliceOnce(dst, offset, length);
      if (n >= 0 || errno != EINVAL || result_.received > 0) {
        if (n < 0) {
          result_.error = errnoText("splice", errno);
        }
        return n;
      }
      use_splice_ = false;  // the input is not a pipe: plain reads from here on
    }
    return copyOnce(dst, offset, length);
  }

 private:
  // Copies up to `length` bytes at the head of the input pipe to the previous handler, without
  // consuming them; returns how many the caller may consume (all of `length` when the
  // forward is dropped). A handler that stops reading is dropped after kForwardStall: it must
  // not keep the crashed process from exiting.
  size_t teeToForward(size_t length) {
    for (;;) {
      const ssize_t teed = ::tee(in_fd_, forward_fd_, length, SPLICE_F_NONBLOCK);
      if (teed > 0) {
        return static_cast<size_t>(teed);
      }
      if (teed == 0) {
        return length;  // end of the input
      }
      if (errno == EINTR) {
        continue;
      }
      if (errno == EINVAL) {
        use_splice_ = false;  // not a pipe: plain reads and writes (forwardCopy)
        return length;
      }
      if (errno != EAGAIN) {
        dropForward(errnoText("forwarding the core", errno));
        return length;
      }
      // Either nothing to read yet (the kernel is writing) or the handler's pipe is full.
      pollfd input{in_fd_, POLLIN, 0};
      while (::poll(&input, 1, -1) < 0 && errno == EINTR) {
      }
      if ((input.revents & POLLIN) == 0) {
        return length;  // hung up with nothing left: the splice sees the end
      }
      const ssize_t again = ::tee(in_fd_, forward_fd_, length, SPLICE_F_NONBLOCK);
      if (again > 0) {
        return static_cast<size_t>(again);
      }
      if (again < 0 && errno == EAGAIN) {
        pollfd output{forward_fd_, POLLOUT, 0};
        int ready;
        while ((ready = ::poll(&output, 1, kForwardStallMs)) < 0 && errno == EINTR) {
        }
        if (ready == 0) {
          dropForward("forwarding the core: the previous handler stopped reading for " +
                      std::to_string(kForwardStallMs / 1000) + " s");
          return length;
        }
        if ((output.revents & (POLLERR | POLLHUP)) != 0) {
          dropForward("forwarding the core: the previous handler closed its input");
          return length;
        }
      }
    }
  }

  void dropForward(std::string why) {
    result_.forward_error = std::move(why);
    forward_fd_ = -1;
  }

  ssize_t spliceOnce(int dst, uint64_t offset, size_t length) {
    for (;;) {
      ssize_t n;
      if (dst >= 0) {
        loff_t at = static_cast<loff_t>(offset);
        n = ::splice(in_fd_, nullptr, dst, &at, length, SPLICE_F_MOVE | SPLICE_F_MORE);
      } else {
        n = ::splice(in_fd_, nullptr, devNull(), nullptr, length, SPLICE_F_MOVE);
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      return n;
    }
  }

  ssize_t copyOnce(int dst, uint64_t offset, size_t length) {
    buffer_.resize(kChunk);
    ssize_t n;
    do {
      n = ::read(in_fd_, buffer_.data(), std::min(length, buffer_.size()));
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      result_.error = errnoText("read", errno);
      return -1;
    }
    if (forward_fd_ >= 0) {
      forwardCopy(static_cast<size_t>(n));
    }
    if (dst < 0 || n == 0) {
      return n;
    }
    size_t done = 0;
    while (done < static_cast<size_t>(n)) {
      const ssize_t w = ::pwrite(dst, buffer_.data() + done, static_cast<size_t>(n) - done,
                                 static_cast<off_t>(offset + done));
      if (w < 0 && errno == EINTR) {
        continue;
      }
      if (w <= 0) {
        result_.error = errnoText("write", w < 0 ? errno : ENOSPC);
        return -1;
      }
      done += static_cast<size_t>(w);
    }
    return n;
  }

  void forwardCopy(size_t n) {
    size_t done = 0;
    while (done < n) {
      const ssize_t w = ::write(forward_fd_, buffer_.data() + done, n - done);
      if (w < 0 && errno == EINTR) {
        continue;
      }
      if (w <= 0) {
        result_.forward_error = errnoText("forwarding the core", w < 0 ? errno : EPIPE);
        forward_fd_ = -1;
        return;
      }
      done += static_cast<size_t>(w);
    }
  }

  int devNull() {
    if (!dev_null_) {
      dev_null_.reset(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    }
    return dev_null_.get();
  }

  int in_fd_;
  int forward_fd_;
  DrainResult& result_;
  bool use_splice_ = true;
  UniqueFd dev_null_;
  std::vector<char> buffer_;
};

// Reads back the head of the core already written, enough for its headers and notes.
std::string readHead(int fd, uint64_t available) {
  std::string head;
  uint64_t want = std::min<uint64_t>(available, 4096);
  for (int round = 0; round < 3; ++round) {
    head.resize(want);
    const ssize_t n = ::pread(fd, head.data(), want, 0);
    if (n < 0) {
      return {};
    }
    head.resize(static_cast<size_t>(n));
    uint64_t needed = coreHeadersSize(head);
    if (needed > head.size() && needed <= available) {
      want = needed;
      continue;
    }
    if (auto layout = parseCoreLayout(head); layout.ok() && layout->headers_end > head.size()) {
      want = std::min<uint64_t>(layout->headers_end, available);
      continue;
    }
    break;
  }
  return head;
}

}  // namespace

DrainResult drainCore(int in_fd, int out_fd, const DrainPlan& plan) {
  DrainResult result;
  (void)::fcntl(in_fd, F_SETPIPE_SZ, kPipeSize);  // fewer wake-ups; fine when refused
  Mover mover(in_fd, plan.forward_fd, result);

  // The head: everything up to the limit, in order.
  while (result.received < plan.limit) {
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(kChunk, plan.limit - result.received));
    const ssize_t n = mover.move(out_fd, result.received, want);
    if (n < 0) {
      return result;
    }
    if (n == 0) {
      result.head = result.received;
      return result;
    }
    result.received += static_cast<uint64_t>(n);
  }
  result.head = result.received;

  // Past the limit: only what unwinding needs, at its own offset.
  std::vector<FileRange> ranges;
  const std::string head = readHead(out_fd, result.head);
  if (auto layout = parseCoreLayout(head); layout.ok()) {
    result.expected_size = layout->expected_size;
    ranges = unwindRangesPast(*layout, plan.limit, plan.unwind_budget);
  }
  size_t next = 0;
  for (;;) {
    while (next < ranges.size() && ranges[next].end <= result.received) {
      ++next;
    }
    if (next == ranges.size() && plan.forward_fd < 0) {
      // Nothing more worth reading. Probe for one byte so that a core that ends exactly at the
      // limit is not called truncated.
      const ssize_t n = mover.move(-1, result.received, 1);
      if (n > 0) {
        result.received += static_cast<uint64_t>(n);
        result.truncated = true;
        result.stopped_early = result.expected_size == 0 || result.received < result.expected_size;
      }
      return result;
    }
    uint64_t stop = UINT64_MAX;
    int dst = -1;
    if (next < ranges.size()) {
      const FileRange& range = ranges[next];
      if (result.received < range.begin) {
        stop = range.begin;
      } else {
        stop = range.end;
        dst = out_fd;
      }
    }
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, stop - result.received));
    const ssize_t n = mover.move(dst, result.received, want);
    if (n < 0) {
      return result;
    }
    if (n == 0) {
      return result;
    }
    result.truncated = true;
    result.received += static_cast<uint64_t>(n);
    if (dst >= 0) {
      result.extra += static_cast<uint64_t>(n);
    }
  }
}

}  // namespace vigie::coredump
