// The agent's own metrics: the loop-lag timer on a fake clock, /healthz's verdict, the API call
// counters, the /proc parsers behind the process figures, and the whole exposition.
#include <doctest/doctest.h>
#include <prometheus/registry.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "agent/metrics/agent_metrics.h"
#include "agent/metrics/api_call_metrics.h"
#include "agent/metrics/exposition.h"
#include "agent/metrics/loop_lag_monitor.h"
#include "agent/metrics/process_collector.h"
#include "tests/fakes/fake_dispatcher.h"
#include "tests/fakes/metrics_text.h"
#include "tests/fakes/null_observer.h"

namespace vigie {
namespace {

using testing::FakeDispatcher;
using testing::NullObserver;
using testing::sample;

double seconds(Duration d) {
  return std::chrono::duration<double>(d).count();
}

TEST_CASE("loop lag: a tick on time shows no lag, a stuck loop a growing one") {
  FakeDispatcher dispatcher;
  prometheus::Registry registry;
  Duration readers_offset{};  // how far the HTTP thread's clock is ahead of the loop's.
  LoopLagMonitor monitor(dispatcher, registry, 1s,
                         [&] { return dispatcher.monotonicNow() + readers_offset; });
  monitor.start();
  CHECK(dispatcher.armedTimers() == 1);
  dispatcher.advance(3s);  // three ticks, each fired at its deadline.

  const MonoTime now = dispatcher.monotonicNow();
  CHECK(monitor.lagAt(now) == Duration::zero());
  CHECK(monitor.stalledAt(now + 999ms) == Duration::zero());
  // The loop does not turn: the tick due at now+1s is 2.5s late at now+3.5s.
  CHECK(monitor.stalledAt(now + 3500ms) == 2500ms);
  CHECK(monitor.lagAt(now + 3500ms) == 2500ms);

  readers_offset = 3500ms;
  const std::string text = exposition({&registry, &monitor});
  CHECK(sample(text, "vigie_event_loop_lag_seconds") == doctest::Approx(2.5));
  CHECK(sample(text, "vigie_event_loop_tick_lag_seconds_count") == 3);
  CHECK(sample(text, R"(vigie_event_loop_tick_lag_seconds_bucket{le="0.0001"})") == 3);
  CHECK(text.find("# TYPE vigie_event_loop_lag_seconds gauge\n") != std::string::npos);
  CHECK(text.find("# TYPE vigie_event_loop_tick_lag_seconds histogram\n") != std::string::npos);
}

TEST_CASE("loop lag: one timer, armed one period after each tick") {
  FakeDispatcher dispatcher;
  prometheus::Registry registry;
  LoopLagMonitor monitor(dispatcher, registry, 250ms, [&] { return dispatcher.monotonicNow(); });
  const MonoTime started = dispatcher.monotonicNow();
  monitor.start();
  CHECK(dispatcher.nextDeadline() == started + 250ms);
  dispatcher.advance(1s);
  CHECK(dispatcher.armedTimers() == 1);
  CHECK(dispatcher.nextDeadline() == started + 1250ms);
  CHECK(seconds(monitor.lagAt(dispatcher.monotonicNow())) == 0);
}

TEST_CASE("healthz: ok while the stall is within the limit, 503 text with the stall beyond it") {
  CHECK(loopHealth(0s, 10s).healthy);
  CHECK(loopHealth(0s, 10s).text == "ok");
  CHECK(loopHealth(10s, 10s).healthy);
  const HealthReport stuck = loopHealth(12345678901ns, 10s);
  CHECK_FALSE(stuck.healthy);
  CHECK(stuck.text == "event loop stalled for 12.345s (limit 10s)");
}

TEST_CASE("healthz: the agent's verdict follows the loop-lag timer") {
  FakeDispatcher dispatcher;
  NullObserver next;
  MetricsSpec spec;
  spec.listen = "";
  spec.healthz_max_lag = 2s;
  Duration readers_offset{};
  AgentMetrics metrics(dispatcher, next, spec,
                       [&] { return dispatcher.monotonicNow() + readers_offset; });
  REQUIRE(metrics.start().ok());
  dispatcher.advance(5s);
  CHECK(metrics.health().healthy);
  readers_offset = 1s + 2s;  // the pending tick is exactly 2s late: still within the limit.
  CHECK(metrics.health().healthy);
  readers_offset = 1s + 2s + 1ms;
  CHECK_FALSE(metrics.health().healthy);
  CHECK(metrics.health().text == "event loop stalled for 2.001s (limit 2s)");
  readers_offset = 0s;
  dispatcher.advance(10s);  // the loop turns again.
  CHECK(metrics.health().healthy);
}

TEST_CASE("api metrics: calls by method and code, stream cut-offs by method") {
  prometheus::Registry registry;
  ApiCallMetrics api(registry);
  ApiCallRecorder& recorder = api;
  recorder.record("Heartbeat", grpc::StatusCode::OK);
  recorder.record("Heartbeat", grpc::StatusCode::OK);
  recorder.record("StopUnit", grpc::StatusCode::PERMISSION_DENIED);
  recorder.streamCutOff("WatchEvents");

  const std::string text = exposition({&registry});
  CHECK(sample(text, R"(vigie_api_requests_total{code="OK",method="Heartbeat"})") == 2);
  CHECK(sample(text, R"(vigie_api_requests_total{code="PERMISSION_DENIED",method="StopUnit"})") ==
        1);
  CHECK(sample(text, R"(vigie_api_stream_cutoffs_total{method="WatchEvents"})") == 1);
  CHECK(grpcCodeName(grpc::StatusCode::UNAUTHENTICATED) == "UNAUTHENTICATED");
  CHECK(grpcCodeName(grpc::StatusCode::DO_NOT_USE) == "UNKNOWN");
}

TEST_CASE("process metrics: /proc/PID/stat fields after a command name with spaces and parens") {
  const std::string stat =
      "4242 (vigied (x) y) S 1 4242 4242 0 -1 4194560 1510 0 0 0 "
      "250 125 0 0 20 0 11 0 987654 712345600 4321 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 "
      "0 17 1 0 0 0 0 0";
  const auto parsed = parseProcessStat(stat);
  REQUIRE(parsed.has_value());
  CHECK(parsed->utime_ticks == 250);
  CHECK(parsed->stime_ticks == 125);
  CHECK(parsed->start_ticks == 987654);
  CHECK(parsed->virtual_bytes == 712345600);
  CHECK(parsed->resident_pages == 4321);
  CHECK_FALSE(parseProcessStat("4242 (short) S 1 2").has_value());
  CHECK_FALSE(parseProcessStat("garbage").has_value());

  CHECK(parseBootTime("cpu  1 2 3\nbtime 1700000000\nprocesses 5\n") == 1700000000u);
  CHECK_FALSE(parseBootTime("cpu  1 2 3\n").has_value());
}

TEST_CASE("agent metrics: the exposition has every agent family, read from the real /proc") {
  FakeDispatcher dispatcher;
  NullObserver next;
  MetricsSpec spec;
  spec.listen = "";
  AgentMetrics metrics(dispatcher, next, spec);
  const Result<std::string> bound = metrics.start();
  REQUIRE(bound.ok());
  CHECK(bound->empty());  // listen "" serves nothing.
  metrics.apiCalls().record("ListUnits", grpc::StatusCode::OK);

  const std::string text = metrics.exposition();
  const auto rss = sample(text, "process_resident_memory_bytes");
  REQUIRE(rss.has_value());
  CHECK(*rss > 1024 * 1024);
  const auto started = sample(text, "process_start_time_seconds");
  REQUIRE(started.has_value());
  CHECK(*started > 1.6e9);  // after 2020.
  CHECK(sample(text, "process_cpu_seconds_total").has_value());
  CHECK(sample(text, "process_open_fds").value_or(0) >= 3);
  CHECK(text.find("\nvigie_build_info{version=\"") != std::string::npos);
  CHECK(sample(text, "vigie_event_loop_lag_seconds").has_value());
  CHECK(sample(text, R"(vigie_api_requests_total{code="OK",method="ListUnits"})") == 1);
  CHECK(text.find("# TYPE vigie_restart_latency_seconds histogram") != std::string::npos);
  CHECK(text.find("# TYPE process_cpu_seconds_total counter") != std::string::npos);
}

}  // namespace
}  // namespace vigie
