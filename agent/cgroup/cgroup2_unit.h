// A unit's directory in a cgroup2 hierarchy, through raw cgroupfs (libcgroup 2.0 cannot create
// a cgroup2 group without controllers). Every file used on the restart path is opened once here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/cgroup/limits.h"
#include "agent/os/unique_fd.h"
#include "vigie/result.h"

namespace vigie {

class Cgroup2Unit {
 public:
  // Creates the directory `root` + `path` (its parent must exist) or opens the one there.
  // `path` is the cgroup's path in the hierarchy ("/vigie/web").
  static Result<std::unique_ptr<Cgroup2Unit>> open(const std::string& root,
                                                   const std::string& path);
  ~Cgroup2Unit();
  Cgroup2Unit(const Cgroup2Unit&) = delete;
  Cgroup2Unit& operator=(const Cgroup2Unit&) = delete;

  const std::string& path() const { return path_; }       // in the hierarchy
  const std::string& fsPath() const { return fs_path_; }  // in the filesystem
  int dirFd() const { return dir_.get(); }
  int procsWriteFd() const { return procs_write_.get(); }
  int procsReadFd() const { return procs_read_.get(); }
  std::string eventsPath() const { return fs_path_ + "/cgroup.events"; }

  // The controllers enabled for this cgroup (its cgroup.controllers).
  std::set<std::string> controllers() const;
  // Writes every limit whose controller is enabled here.
  Status writeLimits(const std::vector<CgroupWrite>& writes);

  bool populated() const;  // cgroup.events; a cgroup that cannot be read counts as populated.
  bool hasKill() const { return kill_.valid(); }
  Status kill();               // "1" to cgroup.kill (Linux 5.14+).
  Status freeze(bool frozen);  // cgroup.freeze (5.2+), for the kill loop without cgroup.kill.
  bool hasFreeze() const { return freeze_.valid(); }

  std::optional<uint64_t> oomKills() const;    // memory.events oom_kill
  std::optional<uint64_t> cpuUsageNs() const;  // cpu.stat usage_usec (there without controllers)
  // memory.peak made per instance: a fresh fd whose peak is reset by a write (Linux 6.12+).
  // False where the kernel cannot (then there is no per-instance peak).
  bool resetPeak();
  std::optional<uint64_t> peak() const;

 private:
  Cgroup2Unit(std::string path, std::string fs_path, UniqueFd dir)
      : path_(std::move(path)), fs_path_(std::move(fs_path)), dir_(std::move(dir)) {}

  std::string path_;
  std::string fs_path_;
  UniqueFd dir_;
  UniqueFd procs_write_;
  UniqueFd procs_read_;
  UniqueFd events_;
  UniqueFd kill_;
  UniqueFd freeze_;
  UniqueFd memory_events_;
  UniqueFd cpu_stat_;
  UniqueFd peak_;  // per instance.
};

}  // namespace vigie
