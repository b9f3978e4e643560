#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "vigie/time.h"

namespace vigie {

// The node's volatile gauges. They are not part of the diffed state: a poller asks for them
// (HeartbeatRequest.with_usage) on its own cadence. Whatever could not be read stays unset.

struct LoadSample {
  double one = 0;
  double five = 0;
  double fifteen = 0;
};

struct MemorySample {
  uint64_t total_bytes = 0;
  uint64_t available_bytes = 0;
  uint64_t swap_total_bytes = 0;
  uint64_t swap_free_bytes = 0;
};

// One line of /proc/pressure/*: averages in percent, and the total stall time.
struct PressureLineSample {
  double avg10 = 0;
  double avg60 = 0;
  double avg300 = 0;
  Duration total{};
};

struct PressureSample {
  PressureLineSample some;
  std::optional<PressureLineSample> full;
};

struct DiskSample {
  std::string path;
  uint64_t total_bytes = 0;
  uint64_t available_bytes = 0;
};

struct UsageSample {
  std::optional<Duration> uptime;
  std::optional<LoadSample> load;
  std::optional<MemorySample> memory;
  std::optional<PressureSample> cpu_pressure;
  std::optional<PressureSample> memory_pressure;
  std::optional<PressureSample> io_pressure;
  std::optional<DiskSample> state_disk;
};

// Where usage comes from: /proc in production (proc_usage.h), canned values in tests. Called on
// API threads, never on the loop thread.
class UsageSource {
 public:
  virtual ~UsageSource() = default;
  virtual UsageSample sample() = 0;
};

}  // namespace vigie
