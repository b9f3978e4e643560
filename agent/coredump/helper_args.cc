#include "agent/coredump/helper_args.h"

#include <charconv>
#include <string_view>

#include "agent/coredump/helper_config.h"

namespace vigie::coredump {
namespace {

template <class T>
bool parseNumber(std::string_view text, T& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return !text.empty() && ec == std::errc() && ptr == end;
}

}  // namespace

HelperArgs parseHelperArgs(int argc, const char* const* argv) {
  HelperArgs args;
  args.config_path = kDefaultConfigPath;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i] != nullptr ? argv[i] : "";
    args.raw.push_back(arg);
    if (positional.empty() && (arg == "-h" || arg == "--help")) {
      args.help = true;
    } else if (positional.empty() && arg == "-c") {
      if (i + 1 < argc && argv[i + 1] != nullptr) {
        args.config_path = argv[++i];
        args.raw.push_back(args.config_path);
      } else {
        args.errors.push_back("-c needs a config path");
      }
    } else {
      positional.push_back(arg);
    }
  }
  const char* names[] = {"PID (%P)",  "TID (%i)",        "SIGNAL (%s)",
                         "TIME (%t)", "CORE_LIMIT (%c)", "HOSTNAME (%h)"};
  if (positional.size() < 6) {
    args.errors.push_back("expected 6 arguments (%P %i %s %t %c %h), got " +
                          std::to_string(positional.size()));
  } else if (positional.size() > 6) {
    args.errors.push_back("ignoring " + std::to_string(positional.size() - 6) +
                          " extra argument(s)");
  }
  auto bad = [&](size_t index) {
    args.errors.push_back(std::string(names[index]) + ": not a number: '" + positional[index] +
                          "'");
  };
  if (positional.size() > 0 && (!parseNumber(positional[0], args.pid) || args.pid <= 0)) {
    args.pid = 0;
    bad(0);
  }
  if (positional.size() > 1 && (!parseNumber(positional[1], args.tid) || args.tid <= 0)) {
    args.tid = 0;
    bad(1);
  }
  if (positional.size() > 2 && (!parseNumber(positional[2], args.signal) || args.signal < 0)) {
    args.signal = 0;
    bad(2);
  }
  if (positional.size() > 3 && !parseNumber(positional[3], args.crash_time)) {
    args.crash_time = 0;
    bad(3);
  }
  if (positional.size() > 4) {
    uint64_t limit = 0;
    if (parseNumber(positional[4], limit)) {
      args.core_limit_known = true;
      // The kernel prints RLIM_INFINITY as the largest unsigned long.
      if (limit != UINT64_MAX) {
        args.core_limit = limit;
      }
    } else {
      bad(4);
    }
  }
  if (positional.size() > 5) {
    args.hostname = positional[5];
  }
  if (args.tid == 0) {
    args.tid = args.pid;
  }
  return args;
}

}  // namespace vigie::coredump
