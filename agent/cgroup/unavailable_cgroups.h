// The cgroup manager when vigied runs without cgroups (`cgroups.mode: off`, or `auto` on a host
// that refused them): units get no cgroup, and limits cannot start a unit unless optional.
#pragma once

#include <string>

#include "agent/cgroup/linux_unit_cgroup.h"
#include "vigie/cgroup.h"

namespace vigie {

class UnavailableCgroupManager final : public CgroupManager {
 public:
  UnavailableCgroupManager(std::string reason, CgroupWarn warn)
      : reason_(std::move(reason)), warn_(std::move(warn)) {}

  CgroupLayout layout() const override { return CgroupLayout::kNone; }
  Result<UnitCgroupPtr> createUnit(const std::string& unit,
                                   const ResourcesSpec& resources) override;

 private:
  std::string reason_;
  CgroupWarn warn_;
};

}  // namespace vigie
