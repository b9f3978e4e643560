// Units' cgroups on this host: detects the layout, prepares the units' parent once (creating it,
// enabling controllers for it on cgroup2), then creates one cgroup per unit under it.
//   unified: everything in cgroup2, raw cgroupfs;
//   hybrid:  limits and memory stats in the v1 controllers (libcgroup), and a cgroup2 directory
//            in unified/ for clone3(CLONE_INTO_CGROUP), cgroup.kill and CPU time;
//   legacy:  v1 only; the freezer and a kill loop stand in for cgroup.kill.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "agent/cgroup/cgroup1_unit.h"
#include "agent/cgroup/events_watcher.h"
#include "agent/cgroup/linux_unit_cgroup.h"
#include "vigie/cgroup.h"
#include "vigie/dispatcher.h"

namespace vigie {

struct CgroupManagerOptions {
  std::string root = "/sys/fs/cgroup";
  std::string parent = "vigie";  // see CgroupsSpec::parent
  std::string proc_self_cgroup = "/proc/self/cgroup";
  // Detected when unset. Tests force kUnified on a fake tree, and kLegacy to use only the v1
  // hierarchies of a hybrid host.
  std::optional<CgroupLayout> layout;
  CgroupWarn warn;  // limits that are optional and cannot be enforced; cleanup failures.
};

class LinuxCgroupManager final : public CgroupManager {
 public:
  static Result<std::unique_ptr<LinuxCgroupManager>> create(Dispatcher& dispatcher,
                                                            CgroupManagerOptions options);
  ~LinuxCgroupManager() override;  // removes the units' parents where empty.

  CgroupLayout layout() const override { return layout_; }
  Result<UnitCgroupPtr> createUnit(const std::string& unit,
                                   const ResourcesSpec& resources) override;

  // "hybrid (...): limits in memory:/a/vigie cpu,pids:/vigie; kill and placement in 0::/vigie"
  std::string describe() const;
  // Where units go in the cgroup2 hierarchy ("" without one), from its root: "/vigie".
  const std::string& unifiedParent() const { return v2_parent_; }

 private:
  LinuxCgroupManager(Dispatcher& dispatcher, CgroupManagerOptions options, CgroupLayout layout)
      : dispatcher_(dispatcher), options_(std::move(options)), layout_(layout) {}
  Status setUpUnified(const std::string& own);
  Status enableControllers(const std::string& own_dir, const std::string& parent_dir);

  Dispatcher& dispatcher_;
  CgroupManagerOptions options_;
  CgroupLayout layout_;
  std::string v2_root_;                  // the cgroup2 mount; "" without one.
  std::string v2_parent_;                // under v2_root_.
  std::vector<std::string> v2_created_;  // directories we made, deepest last.
  std::optional<Cgroup1Hierarchies> v1_;
  std::unique_ptr<CgroupEventsWatcher> watcher_;
};

}  // namespace vigie
