#pragma once

#include <optional>
#include <string>

#include "agent/supervisor/instance.h"
#include "agent/supervisor/supervisor.h"
#include "agent/supervisor/unit.h"
#include "vigie/restart_policy.h"
#include "vigie/time.h"
#include "vigie/unit_lifecycle.h"
#include "vigie/v1/agent.pb.h"

namespace vigie {

// The API's events (v1::Event), built on the loop thread from what the supervisor reports. Their
// `version` is left unset: the SnapshotUpdater stamps it when it publishes.

v1::Event unitStateChangedEvent(const std::string& unit, UnitState from, UnitState to,
                                std::optional<WallTime> next_start, WallTime now);
v1::Event instanceStartedEvent(const Unit& unit, const InstanceRecord& instance, WallTime now);
// `stopping`: the instance ended because the unit was being stopped (no restart).
v1::Event instanceExitedEvent(const Unit& unit, const InstanceRecord& instance,
                              const RestartDecision& decision, bool stopping, WallTime now);
// `summary` is null when the config was rejected.
v1::Event configReloadedEvent(const v1::ReloadSummary* summary, size_t error_count, WallTime now);

void fillReloadSummary(const Supervisor::ReloadSummary& summary, v1::ReloadSummary* out);
v1::RestartAction toProto(const RestartDecision& decision, bool stopping);

// The unit an event is about, or "" for agent-wide events (config reloads, node-level crashes).
const std::string& eventUnit(const v1::Event& event);

}  // namespace vigie
