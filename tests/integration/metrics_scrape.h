// A plain HTTP/1.0 client for vigied's /metrics and /healthz, and readers of the text format:
// what the metrics tests and the crash tests (incident_test.cc) scrape with.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tests/integration/harness.h"

namespace vigie::testing {

struct HttpReply {
  int status = 0;
  std::string head;  // status line and headers.
  std::string body;
};

// One HTTP/1.0 exchange with 127.0.0.1:port; nullopt when it cannot connect or gets no reply.
std::optional<HttpReply> httpRequest(uint16_t port, const std::string& method,
                                     const std::string& path);
std::optional<HttpReply> httpGet(uint16_t port, const std::string& path);

// The value of the sample `series` (name and labels exactly as exposed), if it is there.
std::optional<double> sample(const std::string& text, const std::string& series);
double valueOr(const std::string& text, const std::string& series, double fallback = -1);

// A scrape of /metrics; "" when the endpoint does not answer 200.
std::string scrape(uint16_t port);

// The port of vigied's "metrics on http://127.0.0.1:PORT" log line, once it is there.
uint16_t metricsPort(DaemonProcess& vigied);

}  // namespace vigie::testing
