#pragma once

#include <vector>

#include "agent/api/node_snapshot.h"
#include "agent/supervisor/instance.h"
#include "agent/supervisor/supervisor.h"
#include "agent/supervisor/unit.h"
#include "vigie/config.h"

namespace vigie {

// Views of the supervisor's state for the API. Loop thread only: they read loop-owned objects.
ExitView buildExitView(const WorkloadSpec& spec, const InstanceRecord& instance);
InstanceView buildInstanceView(const WorkloadSpec& spec, const InstanceRecord& instance);
UnitView buildUnitView(const Unit& unit);
// Every unit of the running set, in config order (units removed by a reload and still stopping
// are not part of it: they are tombstones already).
std::vector<UnitView> buildUnitViews(const Supervisor& supervisor);

}  // namespace vigie
