#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "vigie/dispatcher.h"

namespace vigie::testing {

// A dispatcher whose clock moves only when a test says so. advance() fires the timers that fall
// due, in deadline order, each at its own deadline: backoff tests run in microseconds.
class FakeDispatcher final : public Dispatcher {
 public:
  MonoTime monotonicNow() const override { return now_; }
  WallTime wallNow() const override { return wall_start_ + (now_ - mono_start_); }

  TimerPtr createTimer(Callback on_fire) override {
    return std::make_unique<FakeTimer>(*this, std::move(on_fire));
  }
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
    while (!timers_.empty() && timers_.begin()->first.first <= target) {
      auto it = timers_.begin();
      FakeTimer* timer = it->second;
      now_ = it->first.first;
      timers_.erase(it);
      timer->fire();
    }
    now_ = target;
  }

  // The earliest armed deadline, if any.
  std::optional<MonoTime> nextDeadline() const {
    if (timers_.empty()) {
      return std::nullopt;
    }
    return timers_.begin()->first.first;
  }
  size_t armedTimers() const { return timers_.size(); }

 private:
  using Key = std::pair<MonoTime, uint64_t>;

  class FakeTimer final : public Timer {
   public:
    FakeTimer(FakeDispatcher& owner, Callback on_fire)
        : owner_(owner), on_fire_(std::move(on_fire)) {}
    ~FakeTimer() override { disable(); }
    void enableAt(MonoTime deadline) override {
      disable();
      key_ = {deadline, owner_.seq_++};
      owner_.timers_.emplace(key_, this);
      enabled_ = true;
    }
    void disable() override {
      if (enabled_) {
        owner_.timers_.erase(key_);
        enabled_ = false;
      }
    }
    bool enabled() const override { return enabled_; }
    MonoTime deadline() const override { return key_.first; }
    void fire() {
      enabled_ = false;
      on_fire_();
    }

   private:
    FakeDispatcher& owner_;
    Callback on_fire_;
    Key key_{};
    bool enabled_ = false;
  };

  class NoWatch final : public FdWatch {};

  MonoTime mono_start_ = MonoTime{} + std::chrono::hours(1000);
  MonoTime now_ = mono_start_;
  WallTime wall_start_ = WallTime{} + std::chrono::hours(24 * 365 * 50);
  std::map<Key, FakeTimer*> timers_;
  uint64_t seq_ = 0;
  std::vector<Callback> posted_;
};

}  // namespace vigie::testing
