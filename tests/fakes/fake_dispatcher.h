#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "agent/event/timer_set.h"
#include "vigie/dispatcher.h"

namespace vigie::testing {

// A dispatcher whose clock moves only when a test says so. advance() fires the timers that fall
// due, in deadline order, each at its own deadline: backoff tests run in microseconds.
class FakeDispatcher final : public Dispatcher {
 public:
  MonoTime monotonicNow() const override { return now_; }
  WallTime wallNow() const override { return wall_start_ + (now_ - mono_start_); }

  TimerPtr createTimer(Callback on_fire) override { return timers_.create(std::move(on_fire)); }
  FdWatchPtr watchFd(int, uint32_t, FdCallback) override { return std::make_unique<NoWatch>(); }
  void post(Callback work) override { posted_.push_back(std::move(work)); }

  void runPosted() {
    auto batch = std::move(posted_);
    posted_.clear();
    for (auto& work : batch) {
      work();
    }
  }

  void advance(Duration by) {
    const MonoTime target = now_ + by;
    timers_.fireDue(target, [this](MonoTime deadline) { now_ = deadline; });
    now_ = target;
  }

  // The earliest armed deadline, if any.
  std::optional<MonoTime> nextDeadline() const { return timers_.earliest(); }
  size_t armedTimers() const { return timers_.armed(); }

 private:
  class NoWatch final : public FdWatch {};

  MonoTime mono_start_ = MonoTime{} + std::chrono::hours(1000);
  MonoTime now_ = mono_start_;
  WallTime wall_start_ = WallTime{} + std::chrono::hours(24 * 365 * 50);
  TimerSet timers_;
  std::vector<Callback> posted_;
};

}  // namespace vigie::testing
