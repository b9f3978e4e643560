#pragma once

#include <chrono>

namespace vigie {

using Duration = std::chrono::nanoseconds;
using MonoTime = std::chrono::steady_clock::time_point;  // CLOCK_MONOTONIC
using WallTime = std::chrono::system_clock::time_point;  // CLOCK_REALTIME

using namespace std::chrono_literals;  // NOLINT(google-build-using-namespace): 250ms reads best.

// The source of time. Production reads the kernel clocks; tests advance a fake one.
class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual MonoTime monotonicNow() const = 0;
  virtual WallTime wallNow() const = 0;
};

}  // namespace vigie
