// What a unit's `resources:` become in cgroupfs: the files and values for cgroup v2 and for the
// v1 controllers, and which limits a host cannot enforce. Pure functions.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "vigie/config.h"

namespace vigie {

// One interface file to write.
struct CgroupWrite {
  std::string controller;  // "memory", "cpu", "pids"
  std::string file;        // "memory.max"
  std::string value;       // "67108864", "max"

  bool operator==(const CgroupWrite&) const = default;
};

// Every limit file, in the order to write them. An unset limit is written as "no limit", so that
// applying a spec also removes what a previous spec set.
std::vector<CgroupWrite> v2LimitWrites(const ResourcesSpec& resources);
std::vector<CgroupWrite> v1LimitWrites(const ResourcesSpec& resources);

// cpu.weight to v1 cpu.shares, as systemd converts them: 100 is 1024.
uint64_t cpuSharesForWeight(uint32_t weight);

// A limit of `resources` whose controller is not in `available`.
struct MissingLimit {
  std::string limit;       // "memory_max"
  std::string controller;  // "memory"
};
std::vector<MissingLimit> missingLimits(const ResourcesSpec& resources,
                                        const std::set<std::string>& available);
// "memory_max (memory controller), pids_max (pids controller)"
std::string describeMissing(const std::vector<MissingLimit>& missing);

}  // namespace vigie
