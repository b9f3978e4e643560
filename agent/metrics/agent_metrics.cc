#include "agent/metrics/agent_metrics.h"

#include <chrono>
#include <utility>

#include "agent/metrics/exposition.h"

namespace vigie {

HealthReport loopHealth(Duration stalled, Duration max_lag) {
  if (stalled > max_lag) {
    const Duration shown = std::chrono::floor<std::chrono::milliseconds>(stalled);
    return {false, "event loop stalled for " + formatDuration(shown) + " (limit " +
                       formatDuration(max_lag) + ")"};
  }
  return {true, "ok"};
}

AgentMetrics::AgentMetrics(Dispatcher& dispatcher, UnitObserver& next, MetricsSpec spec,
                           LoopLagMonitor::Clock readers_clock)
    : spec_(std::move(spec)),
      crashes_(registry_),
      units_(next, registry_, dispatcher, &crashes_),
      api_calls_(registry_),
      loop_lag_(dispatcher, registry_, LoopLagMonitor::kDefaultPeriod, std::move(readers_clock)) {}

Result<std::string> AgentMetrics::start() {
  loop_lag_.start();
  if (spec_.listen.empty()) {
    return std::string();
  }
  auto address = parseListenAddress(spec_.listen);
  if (!address) {
    return address.error();
  }
  auto server = MetricsHttpServer::start(
      *address, {[this] { return exposition(); }, [this] { return health(); }});
  if (!server) {
    return server.error();
  }
  server_ = std::move(*server);
  return server_->boundAddress();
}

std::string AgentMetrics::exposition() const {
  return vigie::exposition({&registry_, &loop_lag_, &process_});
}

HealthReport AgentMetrics::health() const {
  return loopHealth(loop_lag_.stalledNow(), spec_.healthz_max_lag);
}

}  // namespace vigie
