#include "agent/cgroup/cgroup_setup.h"

#include "agent/cgroup/unavailable_cgroups.h"

namespace vigie {

Result<CgroupSetup> setUpCgroups(Dispatcher& dispatcher, const CgroupsSpec& spec,
                                 CgroupManagerOptions options) {
  CgroupSetup setup;
  CgroupWarn warn = options.warn;
  if (spec.mode == CgroupsSpec::Mode::kOff) {
    setup.summary = "off (cgroups.mode)";
    setup.manager = std::make_unique<UnavailableCgroupManager>("cgroups.mode is off", warn);
    return setup;
  }
  options.parent = spec.parent;
  auto manager = LinuxCgroupManager::create(dispatcher, std::move(options));
  if (!manager) {
    if (spec.mode == CgroupsSpec::Mode::kOn) {
      return Error{"cgroups.mode is on, but: " + manager.error().message,
                   manager.error().errno_value};
    }
    setup.summary = "unavailable, units run without them: " + manager.error().message;
    setup.manager = std::make_unique<UnavailableCgroupManager>(manager.error().message, warn);
    return setup;
  }
  setup.enabled = true;
  setup.summary = (*manager)->describe();
  setup.manager = std::move(*manager);
  return setup;
}

}  // namespace vigie
