#include "agent/metrics/metrics_http_server.h"

#include <civetweb.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <string_view>
#include <utility>

#include "agent/metrics/exposition.h"

namespace vigie {
namespace {

constexpr const char* kThreads = "2";  // a slow scrape does not hold up /healthz.
constexpr const char* kRequestTimeoutMs = "10000";
constexpr unsigned kIpv6Feature = 8;  // mg_check_feature()'s bit for IPv6 support.

enum class Method { kGet, kHead, kOther };

Method methodOf(mg_connection* connection) {
  const mg_request_info* info = mg_get_request_info(connection);
  const std::string_view method = info != nullptr && info->request_method != nullptr
                                      ? std::string_view(info->request_method)
                                      : std::string_view();
  if (method == "GET") {
    return Method::kGet;
  }
  return method == "HEAD" ? Method::kHead : Method::kOther;
}

int respond(mg_connection* connection, int status, const char* reason, const char* content_type,
            const std::string& body, bool with_body) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                     "\r\nContent-Type: " + content_type +
                     "\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\nCache-Control: no-store\r\nConnection: close\r\n";
  if (status == 405) {
    head += "Allow: GET, HEAD\r\n";
  }
  head += "\r\n";
  mg_write(connection, head.data(), head.size());
  if (with_body && !body.empty()) {
    mg_write(connection, body.data(), body.size());
  }
  return status;
}

int methodNotAllowed(mg_connection* connection) {
  return respond(connection, 405, "Method Not Allowed", "text/plain; charset=utf-8",
                 "only GET and HEAD\n", true);
}

}  // namespace

Result<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::start(const ListenAddress& address,
                                                                    Handlers handlers) {
  if (address.host.find(':') != std::string::npos && mg_check_feature(kIpv6Feature) == 0) {
    return Error{"cannot listen on " + address.format() +
                     ": Debian's civetweb is built without IPv6; use an IPv4 address",
                 EAFNOSUPPORT};
  }
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer(std::move(handlers)));
  const std::string ports = address.format();
  const char* options[] = {
      "listening_ports", ports.c_str(),       "num_threads", kThreads, "request_timeout_ms",
      kRequestTimeoutMs, "enable_keep_alive", "no",          nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = &MetricsHttpServer::onLogMessage;
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = server.get();
  init.configuration_options = options;
  unsigned code = 0;
  char text[256] = {};
  mg_error_data error{&code, text, sizeof(text)};

  mg_init_library(0);
  server->library_initialized_ = true;  // from here on the destructor undoes mg_init_library.
  server->context_ = mg_start2(&init, &error);
  server->starting_ = false;
  if (server->context_ == nullptr) {
    std::lock_guard lock(server->log_mutex_);
    // civetweb's first message names the address and the reason ("cannot bind to
    // 127.0.0.1:9464: 98 (Address already in use)"); its error text alone does not.
    if (!server->startup_log_.empty()) {
      return Error{server->startup_log_, EADDRNOTAVAIL};
    }
    return Error{"cannot listen on " + ports + ": " + text, EADDRNOTAVAIL};
  }
  mg_server_port bound[4] = {};
  const int count = mg_get_server_ports(server->context_, 4, bound);
  server->port_ = count > 0 ? static_cast<uint16_t>(bound[0].port) : address.port;
  server->bound_ = ListenAddress{address.host, server->port_}.format();
  mg_set_request_handler(server->context_, "/metrics$", &MetricsHttpServer::onMetrics,
                         server.get());
  mg_set_request_handler(server->context_, "/healthz$", &MetricsHttpServer::onHealthz,
                         server.get());
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (context_ != nullptr) {
    mg_stop(context_);  // joins civetweb's threads.
  }
  if (library_initialized_) {
    mg_exit_library();
  }
}

int MetricsHttpServer::onMetrics(mg_connection* connection, void* self) {
  const Method method = methodOf(connection);
  if (method == Method::kOther) {
    return methodNotAllowed(connection);
  }
  auto& server = *static_cast<MetricsHttpServer*>(self);
  return respond(connection, 200, "OK", kExpositionContentType, server.handlers_.metrics(),
                 method == Method::kGet);
}

int MetricsHttpServer::onHealthz(mg_connection* connection, void* self) {
  const Method method = methodOf(connection);
  if (method == Method::kOther) {
    return methodNotAllowed(connection);
  }
  auto& server = *static_cast<MetricsHttpServer*>(self);
  const HealthReport report = server.handlers_.health();
  return respond(connection, report.healthy ? 200 : 503,
                 report.healthy ? "OK" : "Service Unavailable", "text/plain; charset=utf-8",
                 report.text + "\n", method == Method::kGet);
}

int MetricsHttpServer::onLogMessage(const mg_connection* connection, const char* message) {
  const mg_context* context = connection != nullptr ? mg_get_context(connection) : nullptr;
  auto* server =
      context != nullptr ? static_cast<MetricsHttpServer*>(mg_get_user_data(context)) : nullptr;
  if (server != nullptr && server->starting_) {
    // Still starting: keep the first message (the bind error) for the start-up error.
    std::lock_guard lock(server->log_mutex_);
    if (server->startup_log_.empty()) {
      server->startup_log_ = message;
    }
  } else {
    spdlog::debug("metrics http: {}", message);
  }
  return 1;  // handled: civetweb writes no log of its own.
}

}  // namespace vigie
