// Private to the config: the resource limits a workload may set, by their config names.
#pragma once

#include <sys/resource.h>

#include <array>
#include <string_view>

namespace vigie::config_detail {

struct RlimitInfo {
  std::string_view name;  // the config key: RLIMIT_NOFILE is "nofile".
  int resource;
  bool bytes;  // a byte count: sizes such as 64MiB are accepted.
};

// Sorted by name, the order error messages list them in.
inline constexpr std::array<RlimitInfo, 16> kRlimits{{
    {"as", RLIMIT_AS, true},
    {"core", RLIMIT_CORE, true},
    {"cpu", RLIMIT_CPU, false},
    {"data", RLIMIT_DATA, true},
    {"fsize", RLIMIT_FSIZE, true},
    {"locks", RLIMIT_LOCKS, false},
    {"memlock", RLIMIT_MEMLOCK, true},
    {"msgqueue", RLIMIT_MSGQUEUE, true},
    {"nice", RLIMIT_NICE, false},
    {"nofile", RLIMIT_NOFILE, false},
    {"nproc", RLIMIT_NPROC, false},
    {"rss", RLIMIT_RSS, true},
    {"rtprio", RLIMIT_RTPRIO, false},
    {"rttime", RLIMIT_RTTIME, false},
    {"sigpending", RLIMIT_SIGPENDING, false},
    {"stack", RLIMIT_STACK, true},
}};

// The names alone, for suggestions.
inline constexpr std::array<std::string_view, kRlimits.size()> kRlimitNames = [] {
  std::array<std::string_view, kRlimits.size()> names{};
  for (size_t i = 0; i < kRlimits.size(); ++i) {
    names[i] = kRlimits[i].name;
  }
  return names;
}();

}  // namespace vigie::config_detail
