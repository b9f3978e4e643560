#pragma once

#include <prometheus/collectable.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigie {

// The fields of /proc/PID/stat the process metrics need.
struct ProcessStat {
  uint64_t utime_ticks = 0;
  uint64_t stime_ticks = 0;
  uint64_t start_ticks = 0;  // after boot.
  uint64_t virtual_bytes = 0;
  uint64_t resident_pages = 0;
};
std::optional<ProcessStat> parseProcessStat(std::string_view text);
// The btime line of /proc/stat: the boot time in seconds since the epoch.
std::optional<uint64_t> parseBootTime(std::string_view text);

// The agent process's own figures, read from /proc at each scrape, under the names every
// Prometheus client library uses (process_resident_memory_bytes, process_cpu_seconds_total...),
// plus vigie_build_info. Read on the HTTP thread; nothing here touches the loop.
class ProcessCollector final : public prometheus::Collectable {
 public:
  explicit ProcessCollector(std::string proc_root = "/proc");

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string proc_root_;
  std::optional<double> start_time_seconds_;  // read once: it never changes.
  long ticks_per_second_;
  long page_size_;
};

}  // namespace vigie
