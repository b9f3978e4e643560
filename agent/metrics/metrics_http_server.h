#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "vigie/config.h"
#include "vigie/result.h"

struct mg_context;
struct mg_connection;

namespace vigie {

// What /healthz answers: 200 with "ok" while healthy, 503 with the reason otherwise.
struct HealthReport {
  bool healthy = true;
  std::string text;  // one line, without its newline.
};

// The metrics endpoint: civetweb on its own threads, serving GET (and HEAD) /metrics and
// /healthz; every other path is 404. The handlers run on civetweb's threads: they must only read
// thread-safe state (prometheus metrics, atomics), never the loop's.
class MetricsHttpServer {
 public:
  struct Handlers {
    std::function<std::string()> metrics;  // the exposition text.
    std::function<HealthReport()> health;
  };

  // Binds `address` and starts serving. Fails with the reason (address in use, not a local
  // address...) when the address cannot be bound.
  static Result<std::unique_ptr<MetricsHttpServer>> start(const ListenAddress& address,
                                                          Handlers handlers);
  ~MetricsHttpServer();  // stops serving; returns once no handler runs anymore.
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // The address actually bound (the kernel's port when 0 was asked for): "127.0.0.1:43277".
  const std::string& boundAddress() const { return bound_; }
  uint16_t port() const { return port_; }

 private:
  explicit MetricsHttpServer(Handlers handlers) : handlers_(std::move(handlers)) {}

  static int onMetrics(mg_connection* connection, void* self);
  static int onHealthz(mg_connection* connection, void* self);
  static int onLogMessage(const mg_connection* connection, const char* message);

  Handlers handlers_;
  mg_context* context_ = nullptr;
  std::string bound_;
  uint16_t port_ = 0;
  std::atomic<bool> starting_{true};
  std::mutex log_mutex_;
  std::string startup_log_;  // civetweb's first message while starting: the reason it failed.
  bool library_initialized_ = false;
};

}  // namespace vigie
