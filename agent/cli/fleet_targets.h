#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vigie::cli {

// One agent that `vigiectl fleet` polls.
struct FleetTarget {
  std::string name;     // as written in the targets file, else the address
  std::string address;  // a gRPC target: "unix:/path" or "host:port"
  bool unix_socket = false;

  bool operator==(const FleetTarget&) const = default;
};

// A targets file, parsed. Every problem is reported, as "FILE:LINE: message".
struct FleetTargetsParse {
  std::vector<FleetTarget> targets;
  std::vector<std::string> errors;

  bool ok() const { return errors.empty(); }
};

// The targets file format, one agent a line:
//   ADDRESS [NAME]     # comment
// ADDRESS is `unix:/absolute/path` or `host:port` (an IPv6 host in brackets: `[fd00::1]:7443`).
// NAME (default: the address) is what the table shows. Blank lines and `#` comments are
// skipped. Names and addresses must be unique, and there must be at least one target.
FleetTargetsParse parseFleetTargets(std::string_view text, std::string_view file);
FleetTargetsParse loadFleetTargets(const std::string& path);

}  // namespace vigie::cli
