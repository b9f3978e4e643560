#pragma once

#include <prometheus/collectable.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "vigie/dispatcher.h"
#include "vigie/time.h"

namespace vigie {

// Measures how late the event loop runs, with one periodic loop timer and no thread of its own:
// each tick records how late it fired and stamps when the next one is due. Another thread (the
// HTTP server's) compares that stamp with its clock: while the loop is stuck, the pending tick
// grows later and later, which is what /healthz and vigie_event_loop_lag_seconds report.
//
// start() and the ticks run on the loop thread; lagAt(), health() and Collect() on any thread.
class LoopLagMonitor final : public prometheus::Collectable {
 public:
  static constexpr Duration kDefaultPeriod = 1s;
  // The monotonic clock as other threads read it (the loop's own clock is for the loop thread).
  using Clock = std::function<MonoTime()>;
  static MonoTime steadyNow() { return std::chrono::steady_clock::now(); }

  LoopLagMonitor(Dispatcher& dispatcher, prometheus::Registry& registry,
                 Duration period = kDefaultPeriod, Clock readers_clock = steadyNow);
  LoopLagMonitor(const LoopLagMonitor&) = delete;
  LoopLagMonitor& operator=(const LoopLagMonitor&) = delete;

  void start();  // the first tick is due one period from now.

  // The loop's lag at `now` (the loop's monotonic clock): how late the last tick fired, or how
  // late the pending tick already is, whichever is larger.
  Duration lagAt(MonoTime now) const;
  // How late the pending tick is at `now` (zero when it is not due yet): the time the loop has
  // been unable to turn, give or take one period.
  Duration stalledAt(MonoTime now) const;
  Duration stalledNow() const { return stalledAt(readers_clock_()); }

  // vigie_event_loop_lag_seconds, computed at collection time from `readers_clock`.
  std::vector<prometheus::MetricFamily> Collect() const override;

  // Buckets of vigie_event_loop_tick_lag_seconds.
  static const prometheus::Histogram::BucketBoundaries& tickLagBuckets();

 private:
  void tick();
  void armNext(MonoTime now);

  Dispatcher& dispatcher_;
  Duration period_;
  Clock readers_clock_;
  prometheus::Histogram& tick_lag_;
  TimerPtr timer_;
  // Nanoseconds on the monotonic clock; written by the loop, read by the HTTP thread.
  std::atomic<int64_t> next_due_ns_;
  std::atomic<int64_t> last_lag_ns_{0};
};

}  // namespace vigie
