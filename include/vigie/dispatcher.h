#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "vigie/time.h"

namespace vigie {

// A one-shot timer owned by the loop thread. Destroying it cancels it.
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void enableAt(MonoTime deadline) = 0;
  virtual void disable() = 0;
  virtual bool enabled() const = 0;
  virtual MonoTime deadline() const = 0;
};
using TimerPtr = std::unique_ptr<Timer>;

// Interest in an fd. Destroying the watch unregisters it, even from inside its own callback.
class FdWatch {
 public:
  virtual ~FdWatch() = default;
};
using FdWatchPtr = std::unique_ptr<FdWatch>;

enum FdEvent : uint32_t {
  kFdReadable = 1u << 0,
  kFdWritable = 1u << 1,
  kFdHangup = 1u << 2,
  kFdError = 1u << 3,
};

// The event loop as its users see it: timers, fd readiness and post(). Everything but post()
// must be called on the loop thread. Tests substitute a fake with a fake clock.
class Dispatcher : public TimeSource {
 public:
  using Callback = std::function<void()>;
  using FdCallback = std::function<void(uint32_t fd_events)>;

  virtual TimerPtr createTimer(Callback on_fire) = 0;
  virtual FdWatchPtr watchFd(int fd, uint32_t interest, FdCallback on_ready) = 0;
  // The only method other threads may call: runs `work` on the loop thread, in order.
  virtual void post(Callback work) = 0;
};

}  // namespace vigie
