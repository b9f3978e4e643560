#include "agent/metrics/process_collector.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include <cerrno>
#include <charconv>
#include <sstream>
#include <utility>

#include "agent/os/unique_fd.h"

#ifndef VIGIE_VERSION
#define VIGIE_VERSION "unknown"
#endif

namespace vigie {
namespace {

// Files under /proc have no size: read until EOF, up to a bound.
constexpr size_t kMaxProcFile = size_t{64} * 1024;

std::optional<std::string> readText(const std::string& path) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return std::nullopt;
  }
  std::string text;
  char buffer[4096];
  while (text.size() < kMaxProcFile) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

// Entries of /proc/self/fd, minus the one opendir() itself holds.
std::optional<size_t> countOpenFds(const std::string& proc_root) {
  DIR* dir = ::opendir((proc_root + "/self/fd").c_str());  // glibc opens it O_CLOEXEC.
  if (dir == nullptr) {
    return std::nullopt;
  }
  size_t count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    count += entry->d_name[0] != '.' ? 1 : 0;
  }
  ::closedir(dir);
  return count > 0 ? count - 1 : 0;
}

prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily out;
  out.name = std::move(name);
  out.help = std::move(help);
  out.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  out.metric.push_back(metric);
  return out;
}

}  // namespace

std::optional<ProcessStat> parseProcessStat(std::string_view text) {
  // The command name is in parentheses and may hold spaces or ')': fields start after the last.
  const size_t close = text.rfind(')');
  if (close == std::string_view::npos) {
    return std::nullopt;
  }
  std::istringstream in{std::string(text.substr(close + 1))};
  // Field 3 (state) is the first after the name; utime is field 14.
  std::string field;
  std::vector<std::string> fields;
  while (in >> field) {
    fields.push_back(field);
  }
  auto number = [&](size_t field_number) -> std::optional<uint64_t> {
    const size_t index = field_number - 3;
    if (index >= fields.size()) {
      return std::nullopt;
    }
    uint64_t value = 0;
    const std::string& s = fields[index];
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size()) {
      return std::nullopt;
    }
    return value;
  };
  const auto utime = number(14);
  const auto stime = number(15);
  const auto start = number(22);
  const auto vsize = number(23);
  const auto rss = number(24);
  if (!utime || !stime || !start || !vsize || !rss) {
    return std::nullopt;
  }
  return ProcessStat{*utime, *stime, *start, *vsize, *rss};
}

std::optional<uint64_t> parseBootTime(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("btime ", 0) == 0) {
      uint64_t value = 0;
      const char* begin = line.data() + 6;
      const auto [end, ec] = std::from_chars(begin, line.data() + line.size(), value);
      if (ec == std::errc() && end != begin) {
        return value;
      }
    }
  }
  return std::nullopt;
}

ProcessCollector::ProcessCollector(std::string proc_root)
    : proc_root_(std::move(proc_root)),
      ticks_per_second_(::sysconf(_SC_CLK_TCK)),
      page_size_(::sysconf(_SC_PAGESIZE)) {
  const auto stat = readText(proc_root_ + "/self/stat");
  const auto system = readText(proc_root_ + "/stat");
  const auto parsed = stat ? parseProcessStat(*stat) : std::nullopt;
  const auto boot = system ? parseBootTime(*system) : std::nullopt;
  if (parsed && boot && ticks_per_second_ > 0) {
    start_time_seconds_ = static_cast<double>(*boot) + static_cast<double>(parsed->start_ticks) /
                                                           static_cast<double>(ticks_per_second_);
  }
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  const auto text = readText(proc_root_ + "/self/stat");
  const auto stat = text ? parseProcessStat(*text) : std::nullopt;
  if (stat && ticks_per_second_ > 0 && page_size_ > 0) {
    const double cpu = static_cast<double>(stat->utime_ticks + stat->stime_ticks) /
                       static_cast<double>(ticks_per_second_);
    out.push_back(family("process_cpu_seconds_total",
                         "User and system CPU time spent by the agent, in seconds.",
                         MetricType::Counter, cpu));
    out.push_back(
        family("process_resident_memory_bytes", "Resident memory of the agent, in bytes.",
               MetricType::Gauge,
               static_cast<double>(stat->resident_pages) * static_cast<double>(page_size_)));
    out.push_back(family("process_virtual_memory_bytes", "Virtual memory of the agent, in bytes.",
                         MetricType::Gauge, static_cast<double>(stat->virtual_bytes)));
  }
  if (const auto fds = countOpenFds(proc_root_)) {
    out.push_back(family("process_open_fds", "File descriptors the agent holds open.",
                         MetricType::Gauge, static_cast<double>(*fds)));
  }
  if (start_time_seconds_) {
    out.push_back(family("process_start_time_seconds",
                         "When the agent started, in seconds since the Unix epoch.",
                         MetricType::Gauge, *start_time_seconds_));
  }
  prometheus::MetricFamily build = family(
      "vigie_build_info", "Always 1; the labels say which vigie build runs.", MetricType::Gauge, 1);
  build.metric.front().label.push_back({"version", VIGIE_VERSION});
  out.push_back(build);
  return out;
}

}  // namespace vigie
