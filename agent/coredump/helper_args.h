#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vigie::coredump {

// `vigie-coredump [-c CONFIG] %P %i %s %t %c %h`, as the kernel runs it. Parsing never fails:
// what cannot be understood is listed in `errors` and the capture goes on with what is known.
struct HelperArgs {
  std::string config_path;  // default: kDefaultConfigPath
  pid_t pid = 0;            // %P
  pid_t tid = 0;            // %i
  int signal = 0;           // %s
  int64_t crash_time = 0;   // %t, seconds since the epoch; 0 when unknown
  // %c, RLIMIT_CORE's soft limit in bytes; nullopt when unknown or unlimited.
  std::optional<uint64_t> core_limit;
  bool core_limit_known = false;
  std::string hostname;          // %h
  std::vector<std::string> raw;  // argv[1..]
  std::vector<std::string> errors;
  bool help = false;
};

HelperArgs parseHelperArgs(int argc, const char* const* argv);

inline constexpr const char* kHelperUsage =
    "usage: vigie-coredump [-c CONFIG] PID TID SIGNAL TIME CORE_LIMIT HOSTNAME\n"
    "The kernel's core_pattern helper: |/path/vigie-coredump [-c CONFIG] %P %i %s %t %c %h\n"
    "Reads the core on stdin; CONFIG defaults to /run/vigie/coredump.json.\n";

}  // namespace vigie::coredump
