#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "vigie/dispatcher.h"

namespace vigie {

// The timers of one dispatcher, ordered by deadline (ties by creation order). The real loop arms
// its timerfd to earliest(); the fake dispatcher fires them as its fake clock advances. Both call
// fireDue(), which fires one timer at a time: a callback may enable, disable or destroy any timer.
class TimerSet {
 public:
  TimerPtr create(Dispatcher::Callback on_fire) {
    return std::make_unique<TimerImpl>(*this, std::move(on_fire));
  }

  std::optional<MonoTime> earliest() const {
    if (timers_.empty()) {
      return std::nullopt;
    }
    return timers_.begin()->first.first;
  }
  size_t armed() const { return timers_.size(); }

  // Fires every timer due at `now`. `before_fire` sees each deadline first (the fake clock moves
  // to it, so a callback reads the time it was due at).
  template <class BeforeFire>
  void fireDue(MonoTime now, BeforeFire before_fire) {
    while (!timers_.empty() && timers_.begin()->first.first <= now) {
      auto it = timers_.begin();
      TimerImpl* timer = it->second;
      before_fire(it->first.first);
      timers_.erase(it);
      timer->fire();
    }
  }
  void fireDue(MonoTime now) {
    fireDue(now, [](MonoTime) {});
  }

 private:
  using Key = std::pair<MonoTime, uint64_t>;

  class TimerImpl final : public Timer {
   public:
    TimerImpl(TimerSet& set, Dispatcher::Callback on_fire)
        : set_(set), on_fire_(std::make_shared<Dispatcher::Callback>(std::move(on_fire))) {}
    ~TimerImpl() override { disable(); }

    void enableAt(MonoTime deadline) override {
      disable();
      key_ = {deadline, set_.next_seq_++};
      set_.timers_.emplace(key_, this);
      enabled_ = true;
    }
    void disable() override {
      if (enabled_) {
        set_.timers_.erase(key_);
        enabled_ = false;
      }
    }
    bool enabled() const override { return enabled_; }
    MonoTime deadline() const override { return key_.first; }

    // Called after the set removed this timer.
    // The callback may destroy this timer: the reference keeps the callback, and what it
    // captured, alive until it returns.
    void fire() {
      enabled_ = false;
      const std::shared_ptr<Dispatcher::Callback> callback = on_fire_;
      (*callback)();
    }

   private:
    TimerSet& set_;
    std::shared_ptr<Dispatcher::Callback> on_fire_;
    Key key_{};
    bool enabled_ = false;
  };

  std::map<Key, TimerImpl*> timers_;
  uint64_t next_seq_ = 0;
};

}  // namespace vigie
