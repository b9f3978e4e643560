#include "agent/health/http_status.h"

namespace vigie {

std::optional<int> parseHttpStatusLine(std::string_view line) {
  // "HTTP/" digit "." digit SP 3DIGIT [SP reason]
  if (line.size() < 12 || !line.starts_with("HTTP/1.") || line[8] != ' ') {
    return std::nullopt;
  }
  int code = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') {
      return std::nullopt;
    }
    code = code * 10 + (line[i] - '0');
  }
  if (line.size() > 12 && line[12] != ' ') {
    return std::nullopt;
  }
  return code;
}

std::string httpProbeRequest(std::string_view path, std::string_view host_header) {
  std::string request = "GET ";
  request.append(path).append(" HTTP/1.0\r\nHost: ").append(host_header);
  request.append("\r\nUser-Agent: vigie-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n");
  return request;
}

}  // namespace vigie
