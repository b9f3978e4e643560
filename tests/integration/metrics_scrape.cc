#include "tests/integration/metrics_scrape.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "agent/os/unique_fd.h"

namespace vigie::testing {

std::optional<HttpReply> httpRequest(uint16_t port, const std::string& method,
                                     const std::string& path) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE_MESSAGE(fd.valid(), "socket: " << std::strerror(errno));
  timeval timeout{10, 0};  // a stalled server must fail the test, not hang it.
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return std::nullopt;
  }
  const std::string request = method + " " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return std::nullopt;
  }
  std::string raw;
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::recv(fd.get(), buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    raw.append(buffer, static_cast<size_t>(n));
  }
  const size_t end_of_head = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || end_of_head == std::string::npos) {
    return std::nullopt;
  }
  HttpReply reply;
  reply.status = std::atoi(raw.c_str() + raw.find(' ') + 1);
  reply.head = raw.substr(0, end_of_head);
  reply.body = raw.substr(end_of_head + 4);
  return reply;
}

std::optional<HttpReply> httpGet(uint16_t port, const std::string& path) {
  return httpRequest(port, "GET", path);
}

std::optional<double> sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::strtod(line.c_str() + series.size() + 1, nullptr);
    }
  }
  return std::nullopt;
}

std::string scrape(uint16_t port) {
  const std::optional<HttpReply> reply = httpGet(port, "/metrics");
  return reply && reply->status == 200 ? reply->body : std::string();
}

double valueOr(const std::string& text, const std::string& series, double fallback) {
  return sample(text, series).value_or(fallback);
}

uint16_t metricsPort(DaemonProcess& vigied) {
  const std::string needle = "metrics on http://127.0.0.1:";
  REQUIRE_MESSAGE(vigied.waitForLog(needle), vigied.stderrText());
  const std::string log = vigied.stderrText();
  const int port = std::atoi(log.c_str() + log.find(needle) + needle.size());
  REQUIRE(port > 0);
  REQUIRE(port < 65536);
  return static_cast<uint16_t>(port);
}

}  // namespace vigie::testing
