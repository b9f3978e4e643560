#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vigie {

// The status code in an HTTP/1.x status line ("HTTP/1.1 503 Service Unavailable"), without its
// line ending; nullopt when it is not one.
std::optional<int> parseHttpStatusLine(std::string_view line);

// What an HTTP probe counts as healthy, like Kubernetes: 200 to 399.
constexpr bool httpStatusHealthy(int code) {
  return code >= 200 && code < 400;
}

// The probe's request: HTTP/1.0 (the server closes after its answer), no body, no keep-alive.
// `host_header` is "host:port" with IPv6 addresses in brackets.
std::string httpProbeRequest(std::string_view path, std::string_view host_header);

}  // namespace vigie
