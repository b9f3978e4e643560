#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "agent/api/usage.h"

namespace vigie {

// Parsers for the /proc files behind UsageSample. Each returns nullopt on text it does not
// understand.
std::optional<Duration> parseUptime(std::string_view text);          // /proc/uptime
std::optional<LoadSample> parseLoadavg(std::string_view text);       // /proc/loadavg
std::optional<MemorySample> parseMeminfo(std::string_view text);     // /proc/meminfo
std::optional<PressureSample> parsePressure(std::string_view text);  // /proc/pressure/*

// Samples /proc (or a copy of it, for tests) and the filesystem of the state directory.
class ProcUsageReader final : public UsageSource {
 public:
  explicit ProcUsageReader(std::string state_dir, std::string proc_root = "/proc");
  UsageSample sample() override;

 private:
  std::optional<std::string> readProc(const char* relative) const;

  std::string state_dir_;
  std::string proc_root_;
};

}  // namespace vigie
