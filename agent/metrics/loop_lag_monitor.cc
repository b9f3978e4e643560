#include "agent/metrics/loop_lag_monitor.h"

#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include <algorithm>
#include <chrono>
#include <utility>

namespace vigie {
namespace {

int64_t nanosOf(MonoTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

const prometheus::Histogram::BucketBoundaries& LoopLagMonitor::tickLagBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10};
  return buckets;
}

LoopLagMonitor::LoopLagMonitor(Dispatcher& dispatcher, prometheus::Registry& registry,
                               Duration period, Clock readers_clock)
    : dispatcher_(dispatcher),
      period_(period),
      readers_clock_(std::move(readers_clock)),
      tick_lag_(prometheus::BuildHistogram()
                    .Name("vigie_event_loop_tick_lag_seconds")
                    .Help("How late each tick of the event loop's periodic timer fired.")
                    .Register(registry)
                    .Add({}, tickLagBuckets())),
      timer_(dispatcher.createTimer([this] { tick(); })),
      next_due_ns_(nanosOf(dispatcher.monotonicNow() + period)) {}

void LoopLagMonitor::start() {
  armNext(dispatcher_.monotonicNow());
}

void LoopLagMonitor::armNext(MonoTime now) {
  // From now, not from the missed deadline: after a stall, one late tick, not a burst.
  const MonoTime due = now + period_;
  next_due_ns_.store(nanosOf(due), std::memory_order_relaxed);
  timer_->enableAt(due);
}

void LoopLagMonitor::tick() {
  const MonoTime now = dispatcher_.monotonicNow();
  const Duration lag = std::max(now - timer_->deadline(), Duration::zero());
  last_lag_ns_.store(lag.count(), std::memory_order_relaxed);
  tick_lag_.Observe(std::chrono::duration<double>(lag).count());
  armNext(now);
}

Duration LoopLagMonitor::stalledAt(MonoTime now) const {
  const int64_t late = nanosOf(now) - next_due_ns_.load(std::memory_order_relaxed);
  return Duration(std::max<int64_t>(late, 0));
}

Duration LoopLagMonitor::lagAt(MonoTime now) const {
  return std::max(Duration(last_lag_ns_.load(std::memory_order_relaxed)), stalledAt(now));
}

std::vector<prometheus::MetricFamily> LoopLagMonitor::Collect() const {
  prometheus::MetricFamily family;
  family.name = "vigie_event_loop_lag_seconds";
  family.help =
      "How late the event loop runs: the lateness of its last periodic tick, or of the pending "
      "one when that is later (a stuck loop shows a growing value).";
  family.type = prometheus::MetricType::Gauge;
  prometheus::ClientMetric metric;
  metric.gauge.value = std::chrono::duration<double>(lagAt(readers_clock_())).count();
  family.metric.push_back(metric);
  return {family};
}

}  // namespace vigie
