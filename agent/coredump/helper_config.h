#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/result.h"

namespace vigie::coredump {

inline constexpr const char* kDefaultConfigPath = "/run/vigie/coredump.json";

// vigie-coredump's settings. vigied writes them as JSON (the CoredumpHelperConfig message of
// proto/vigie/v1/crash.proto); every field has a safe default.
struct HelperConfig {
  std::string spool_dir = "/var/lib/vigie/crash/spool";
  std::string intake_socket = "/run/vigie/coredump.sock";
  uint64_t core_size_max = uint64_t{2} << 30;
  std::chrono::milliseconds capture_timeout = std::chrono::seconds(60);
  std::vector<std::string> redact_env = {"*TOKEN*", "*SECRET*", "*PASSWORD*", "*KEY*"};
  std::vector<std::string> redact_args = {"--password=*", "--token=*", "--secret=*", "--api-key=*",
                                          "--password",   "--token",   "--secret",   "--api-key"};
  std::string forward;      // the previous pipe pattern, "|/abs/path args..."; empty: none
  uint32_t rate_burst = 5;  // 0: no rate limit
  std::chrono::seconds rate_interval = std::chrono::minutes(10);
  int compression_level = 1;
};

// Parses the JSON text of a config. Unknown keys are ignored (a newer vigied may write more);
// a syntax error or an invalid value is an error.
Result<HelperConfig> parseHelperConfig(std::string_view json);

struct LoadedConfig {
  HelperConfig config;
  bool defaults_used = false;  // the file was missing or broken: everything is default
  std::string warning;         // why defaults were used
};

// Reads `path`; never fails: a missing or broken file gives the defaults and says why.
LoadedConfig loadHelperConfig(const std::string& path);

}  // namespace vigie::coredump
