#include "agent/cgroup/unavailable_cgroups.h"

namespace vigie {

Result<UnitCgroupPtr> UnavailableCgroupManager::createUnit(const std::string& unit,
                                                           const ResourcesSpec& resources) {
  if (!resources.anyLimit()) {
    return UnitCgroupPtr();
  }
  const std::string what = "resources need cgroups, and vigied runs without them (" + reason_ + ")";
  if (!resources.optional) {
    return Error{what, ENOTSUP};
  }
  if (warn_) {
    warn_(unit + ": " + what + "; optional: ignored");
  }
  return UnitCgroupPtr();
}

}  // namespace vigie
