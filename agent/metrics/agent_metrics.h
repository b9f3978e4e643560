#pragma once

#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "agent/api/access.h"
#include "agent/metrics/api_call_metrics.h"
#include "agent/metrics/loop_lag_monitor.h"
#include "agent/metrics/metrics_http_server.h"
#include "agent/metrics/process_collector.h"
#include "agent/metrics/unit_metrics.h"
#include "agent/supervisor/supervisor.h"
#include "vigie/config.h"
#include "vigie/dispatcher.h"

namespace vigie {

// /healthz's verdict: 503 once the loop has been stalled for longer than `max_lag`.
HealthReport loopHealth(Duration stalled, Duration max_lag);

// Everything vigied exposes to Prometheus, in one object for main.cc to wire:
// - unitObserver(): a link of the unit-event chain, in front of `next` (give it to the
//   supervisor, then track() the supervisor, and syncUnits() after each reload);
// - crashEvents(): what the crash tracker tells, for the crash families (CrashCapture's Deps);
// - apiCalls(): the ApiCallRecorder for the gRPC service;
// - start(): the loop-lag timer, and the HTTP endpoint on spec.listen (/metrics, /healthz).
// Built and started on the loop thread; the HTTP threads only read thread-safe state.
class AgentMetrics {
 public:
  // `readers_clock`: the monotonic clock as the HTTP threads read it (a fake one in tests).
  AgentMetrics(Dispatcher& dispatcher, UnitObserver& next, MetricsSpec spec,
               LoopLagMonitor::Clock readers_clock = LoopLagMonitor::steadyNow);
  AgentMetrics(const AgentMetrics&) = delete;
  AgentMetrics& operator=(const AgentMetrics&) = delete;

  UnitObserver& unitObserver() { return units_; }
  void track(const Supervisor& supervisor) { units_.track(supervisor); }
  void syncUnits() { units_.syncUnits(); }
  ApiCallRecorder& apiCalls() { return api_calls_; }
  crash::CrashEvents& crashEvents() { return crashes_; }

  // Starts the lag timer and, unless spec.listen is "", serves HTTP. Returns the address bound
  // ("127.0.0.1:43277"), "" when disabled, or why it could not listen.
  Result<std::string> start();

  // What /metrics and /healthz answer (callable from any thread).
  std::string exposition() const;
  HealthReport health() const;

 private:
  MetricsSpec spec_;
  prometheus::Registry registry_;
  CrashMetrics crashes_;  // before units_, which adds and removes its per-unit series
  UnitMetrics units_;
  ApiCallMetrics api_calls_;
  LoopLagMonitor loop_lag_;
  ProcessCollector process_;
  std::unique_ptr<MetricsHttpServer> server_;  // last: it stops before what it reads goes.
};

}  // namespace vigie
