// A unit's cgroups in the v1 hierarchies, through libcgroup: create with limits, modify in
// place, delete. The files read on the restart path (stats, cgroup.procs) are opened once,
// directly.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/cgroup/layout.h"
#include "agent/cgroup/limits.h"
#include "agent/os/unique_fd.h"
#include "vigie/result.h"

namespace vigie {

// One mounted v1 hierarchy holding some of the controllers vigie uses.
struct Cgroup1Hierarchy {
  std::set<std::string> controllers;  // ours that are mounted here ("cpu" and "cpuacct" may share)
  std::string mount;                  // "/sys/fs/cgroup/memory"
  std::string base;                   // the units' parent in it, from its root: "/x/vigie"
};

class Cgroup1Hierarchies {
 public:
  // Finds `wanted` controllers through libcgroup; each unit goes to <base>/<unit>, where base is
  // `parent` under this process's own cgroup in that hierarchy (`parent` relative), or `parent`
  // itself (absolute). Controllers that are not mounted as v1 are left out.
  static Result<Cgroup1Hierarchies> discover(const std::vector<std::string>& wanted,
                                             const ProcCgroups& own, const std::string& parent);

  const std::vector<Cgroup1Hierarchy>& hierarchies() const { return hierarchies_; }
  std::set<std::string> controllers() const;
  const Cgroup1Hierarchy* find(const std::string& controller) const;
  // Creates the units' parent in each hierarchy (libcgroup), which also shows that we may.
  Status createBases() const;
  // Removes the units' parent directories, where empty (at shutdown).
  void removeBases() const;

 private:
  std::vector<Cgroup1Hierarchy> hierarchies_;
};

class Cgroup1Unit {
 public:
  // Creates (or opens) the unit's cgroup in every hierarchy; limits come with modify().
  static Result<std::unique_ptr<Cgroup1Unit>> create(const Cgroup1Hierarchies& hierarchies,
                                                     const std::string& unit);
  ~Cgroup1Unit();  // deletes the cgroups that are empty.
  Cgroup1Unit(const Cgroup1Unit&) = delete;
  Cgroup1Unit& operator=(const Cgroup1Unit&) = delete;

  std::string describe() const;  // "memory:/x/vigie/web cpu,pids:/vigie/web"
  Status modify(const std::vector<CgroupWrite>& limits);

  // cgroup.procs of each hierarchy, for the child to write "0" into.
  std::vector<int> procsWriteFds() const;
  // cgroup.procs of one hierarchy (all hold the same processes), for the kill loop. Opened
  // anew each time: v1 caches a pid list per open file for a second, so a kept fd reads stale.
  Result<std::string> readProcs() const;
  bool hasFreezer() const { return freezer_state_.valid(); }
  Status freeze(bool frozen);

  std::optional<uint64_t> oomKills() const;    // memory.oom_control oom_kill (4.13+)
  std::optional<uint64_t> cpuUsageNs() const;  // cpuacct.usage
  bool resetPeak();                            // memory.max_usage_in_bytes := current usage
  std::optional<uint64_t> peak() const;

 private:
  struct Group {
    std::string path;  // under each of its hierarchies' roots: "/x/vigie/web"
    std::vector<std::string> controllers;
  };
  Cgroup1Unit() = default;
  Status run(const std::vector<CgroupWrite>& limits, bool create);
  friend class Cgroup1Hierarchies;

  std::vector<Group> groups_;  // the unit's path differs between hierarchies.
  std::vector<UniqueFd> procs_write_;
  UniqueFd procs_dir_;  // the hierarchy readProcs() reads: the freezer's when there is one.
  UniqueFd freezer_state_;
  UniqueFd oom_control_;
  UniqueFd cpuacct_usage_;
  UniqueFd max_usage_;
};

}  // namespace vigie
