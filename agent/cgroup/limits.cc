#include "agent/cgroup/limits.h"

#include <algorithm>
#include <chrono>

namespace vigie {
namespace {

constexpr uint64_t kDefaultShares = 1024;
constexpr uint64_t kMinShares = 2;
constexpr uint64_t kMaxShares = 262144;
constexpr uint64_t kDefaultPeriodUs = 100'000;

std::string microseconds(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

template <class T>
std::string valueOr(const std::optional<T>& value, const char* none) {
  return value ? std::to_string(*value) : std::string(none);
}

}  // namespace

uint64_t cpuSharesForWeight(uint32_t weight) {
  return std::clamp<uint64_t>(uint64_t{weight} * kDefaultShares / 100, kMinShares, kMaxShares);
}

std::vector<CgroupWrite> v2LimitWrites(const ResourcesSpec& r) {
  return {
      {"memory", "memory.high", valueOr(r.memory_high, "max")},
      {"memory", "memory.max", valueOr(r.memory_max, "max")},
      {"cpu", "cpu.weight", valueOr(r.cpu_weight, "100")},
      {"cpu", "cpu.max",
       r.cpu_max ? microseconds(r.cpu_max->quota) + " " + microseconds(r.cpu_max->period)
                 : std::string("max")},
      {"pids", "pids.max", valueOr(r.pids_max, "max")},
  };
}

std::vector<CgroupWrite> v1LimitWrites(const ResourcesSpec& r) {
  return {
      // v1 has no memory.high: the soft limit is what reclaim aims at under pressure.
      {"memory", "memory.soft_limit_in_bytes", valueOr(r.memory_high, "-1")},
      {"memory", "memory.limit_in_bytes", valueOr(r.memory_max, "-1")},
      {"cpu", "cpu.shares",
       std::to_string(r.cpu_weight ? cpuSharesForWeight(*r.cpu_weight) : kDefaultShares)},
      // The period first: the quota is checked against it.
      {"cpu", "cpu.cfs_period_us",
       r.cpu_max ? microseconds(r.cpu_max->period) : std::to_string(kDefaultPeriodUs)},
      {"cpu", "cpu.cfs_quota_us", r.cpu_max ? microseconds(r.cpu_max->quota) : std::string("-1")},
      {"pids", "pids.max", valueOr(r.pids_max, "max")},
  };
}

std::vector<MissingLimit> missingLimits(const ResourcesSpec& r,
                                        const std::set<std::string>& available) {
  std::vector<MissingLimit> missing;
  auto need = [&](bool set, const char* limit, const char* controller) {
    if (set && available.count(controller) == 0) {
      missing.push_back({limit, controller});
    }
  };
  need(r.memory_max.has_value(), "memory_max", "memory");
  need(r.memory_high.has_value(), "memory_high", "memory");
  need(r.cpu_weight.has_value(), "cpu_weight", "cpu");
  need(r.cpu_max.has_value(), "cpu_max", "cpu");
  need(r.pids_max.has_value(), "pids_max", "pids");
  return missing;
}

std::string describeMissing(const std::vector<MissingLimit>& missing) {
  std::string out;
  for (const MissingLimit& limit : missing) {
    if (!out.empty()) {
      out += ", ";
    }
    out += limit.limit + " (" + limit.controller + " controller)";
  }
  return out;
}

}  // namespace vigie
