// A unit's cgroup on a real host: a cgroup2 directory, v1 cgroups, or both (hybrid: limits in
// v1, kill-all and placement in the unified hierarchy).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "agent/cgroup/cgroup1_unit.h"
#include "agent/cgroup/cgroup2_unit.h"
#include "agent/cgroup/events_watcher.h"
#include "agent/cgroup/kill_loop.h"
#include "vigie/cgroup.h"
#include "vigie/dispatcher.h"

namespace vigie {

using CgroupWarn = std::function<void(const std::string&)>;

class LinuxUnitCgroup final : public UnitCgroup {
 public:
  struct Parts {
    std::unique_ptr<Cgroup2Unit> v2;    // null on legacy hosts.
    bool v2_limits = false;             // limits and memory stats from v2 (unified hosts).
    std::unique_ptr<Cgroup1Unit> v1;    // null on unified hosts.
    std::set<std::string> controllers;  // the controllers limits can use.
  };

  LinuxUnitCgroup(std::string unit, Dispatcher& dispatcher, CgroupEventsWatcher* watcher,
                  CgroupWarn warn, Parts parts);
  ~LinuxUnitCgroup() override;

  std::string describe() const override;
  Status apply(const ResourcesSpec& resources) override;
  CgroupPlacement placement() const override;
  void beginInstance() override;
  CgroupInstanceStats endInstance() override;
  void killAll(std::function<void()> on_empty) override;
  bool killing() const override;
  bool startsWhileKilling() const override;

  // Whether any process is in the cgroup.
  bool populated() const;

 private:
  std::optional<uint64_t> oomKills() const;
  std::optional<uint64_t> cpuUsageNs() const;
  void checkEmpty();
  void finishKill();

  std::string unit_;
  Dispatcher& dispatcher_;
  CgroupEventsWatcher* watcher_;
  CgroupWarn warn_;
  std::unique_ptr<Cgroup2Unit> v2_;
  bool v2_limits_;
  std::unique_ptr<Cgroup1Unit> v1_;
  std::set<std::string> controllers_;
  std::unique_ptr<CgroupKillLoop> kill_loop_;      // without cgroup.kill.
  std::unique_ptr<CgroupKillLoop> fallback_loop_;  // cgroup.kill without an inotify watch.
  std::unique_ptr<CgroupEventsWatcher::Watch> events_watch_;
  bool waiting_ = false;  // a cgroup.kill waiting for "populated 0".
  std::function<void()> on_empty_;

  std::optional<uint64_t> oom_base_;
  std::optional<uint64_t> cpu_base_;
  bool peak_per_instance_ = false;
};

}  // namespace vigie
