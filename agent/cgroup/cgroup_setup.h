// What `cgroups.mode` makes of this host at start: a manager that creates units' cgroups, or
// one that runs units without (mode off, or auto where the host refused), and the line to log.
#pragma once

#include <memory>
#include <string>

#include "agent/cgroup/linux_cgroup_manager.h"
#include "vigie/cgroup.h"
#include "vigie/config.h"
#include "vigie/dispatcher.h"

namespace vigie {

struct CgroupSetup {
  std::unique_ptr<CgroupManager> manager;
  bool enabled = false;  // units get cgroups.
  // "hybrid (...); units under memory:/vigie ..." when enabled; else why not.
  std::string summary;
};

// kOn: an error when the host refuses. kAuto: falls back to no cgroups, saying why. kOff: none.
// `options.parent` is taken from `spec`.
Result<CgroupSetup> setUpCgroups(Dispatcher& dispatcher, const CgroupsSpec& spec,
                                 CgroupManagerOptions options);

}  // namespace vigie
