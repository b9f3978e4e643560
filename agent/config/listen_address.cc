// "host:port" for the API's TCP listener and the metrics endpoint. Checked when the config is
// loaded, so that a typo is a file:line:col error and not a listener that fails at start.

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>

#include "vigie/config.h"

namespace vigie {
namespace {

Error addressError(std::string_view text, std::string_view reason) {
  return Error{fmt::format("invalid address \"{}\": {}", text, reason)};
}

bool isIpv4(const std::string& host) {
  in_addr address{};
  return ::inet_pton(AF_INET, host.c_str(), &address) == 1;
}

bool isIpv6(const std::string& host) {
  in6_addr address{};
  return ::inet_pton(AF_INET6, host.c_str(), &address) == 1;
}

// A DNS name: letters, digits, '-' and '.', not starting with either punctuation. All-numeric
// names are IPv4 addresses and must parse as one ("300.1.1.1" is a typo, not a host).
bool isHostName(const std::string& host) {
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
  };
  if (host.empty() || host.front() == '-' || host.front() == '.' ||
      !std::all_of(host.begin(), host.end(), allowed)) {
    return false;
  }
  const bool numeric = std::all_of(host.begin(), host.end(),
                                   [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
  return !numeric || isIpv4(host);
}

}  // namespace

std::string ListenAddress::format() const {
  if (host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", host, port);
  }
  return fmt::format("{}:{}", host, port);
}

Result<ListenAddress> parseListenAddress(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) {
    return addressError(text, "expected host:port, such as 127.0.0.1:9464");
  }
  std::string host = text.substr(0, colon);
  const std::string_view port_text = std::string_view(text).substr(colon + 1);
  if (host.empty()) {
    return addressError(text, "missing host (0.0.0.0 listens on every IPv4 address)");
  }
  if (host.front() == '[') {
    if (host.size() < 2 || host.back() != ']') {
      return addressError(text, "expected ']' after the IPv6 address");
    }
    host = host.substr(1, host.size() - 2);
    if (!isIpv6(host)) {
      return addressError(text, fmt::format("\"{}\" is not an IPv6 address", host));
    }
  } else if (host.find(':') != std::string::npos) {
    return addressError(text, "write an IPv6 address in brackets, such as [::1]:7443");
  } else if (!isHostName(host)) {
    return addressError(text, fmt::format("\"{}\" is not a host name or IP address", host));
  }
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return addressError(text,
                        fmt::format("port \"{}\" is not a number between 0 and 65535", port_text));
  }
  return ListenAddress{std::move(host), static_cast<uint16_t>(port)};
}

}  // namespace vigie
