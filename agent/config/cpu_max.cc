// `resources.cpu_max`: a CPU quota per period, as cgroup v2's cpu.max and v1's CFS quota take it.
#include <charconv>
#include <chrono>
#include <cmath>
#include <string>
#include <string_view>

#include "vigie/config.h"

namespace vigie {
namespace {

// The kernel's bounds (kernel/sched/core.c): a period of 1ms..1s and a quota of at least 1ms.
constexpr Duration kMinPeriod = 1ms;
constexpr Duration kMaxPeriod = 1s;
constexpr Duration kMinQuota = 1ms;
constexpr double kMaxCpus = 1'000'000;
constexpr const char* kSyntax =
    "expected a quota and a period (\"50ms/100ms\"), a quota per 100ms (\"50ms\"), a number of "
    "CPUs (\"0.5\") or \"max\"";

Error cpuMaxError(const std::string& text, const std::string& why) {
  return Error{"invalid cpu_max \"" + text + "\": " + why, EINVAL};
}

bool isNumber(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789.") == std::string_view::npos;
}

}  // namespace

Result<std::optional<CpuMaxSpec>> parseCpuMax(const std::string& text) {
  if (text == "max") {
    return std::optional<CpuMaxSpec>();
  }
  CpuMaxSpec spec;
  if (isNumber(text)) {
    double cpus = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), cpus);
    if (ec != std::errc() || end != text.data() + text.size() || !(cpus > 0) || cpus > kMaxCpus) {
      return cpuMaxError(text, "the number of CPUs must be greater than 0");
    }
    const double quota_us = std::round(cpus * static_cast<double>(spec.period.count()) / 1000.0);
    spec.quota = std::chrono::microseconds(static_cast<int64_t>(quota_us));
  } else {
    const size_t slash = text.find('/');
    auto quota = parseDuration(text.substr(0, slash));
    if (!quota) {
      return cpuMaxError(text, kSyntax);
    }
    spec.quota = *quota;
    if (slash != std::string::npos) {
      auto period = parseDuration(text.substr(slash + 1));
      if (!period) {
        return cpuMaxError(text, kSyntax);
      }
      spec.period = *period;
    }
  }
  if (spec.period < kMinPeriod || spec.period > kMaxPeriod) {
    return cpuMaxError(text, "the period must be between 1ms and 1s");
  }
  if (spec.quota < kMinQuota) {
    return cpuMaxError(text, "the quota must be at least 1ms");
  }
  return std::optional<CpuMaxSpec>(spec);
}

}  // namespace vigie
