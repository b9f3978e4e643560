#pragma once

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include <cstddef>

#include "agent/api/node_snapshot.h"
#include "agent/api/usage.h"
#include "vigie/config.h"
#include "vigie/time.h"
#include "vigie/unit_lifecycle.h"
#include "vigie/v1/agent.pb.h"

namespace vigie {

// Conversions from the API's views to vigie.v1 messages. Pure functions.

// Seconds and nanos normalized the protobuf way: nanos in [0, 1e9) for timestamps, and with the
// sign of seconds for durations.
google::protobuf::Timestamp toTimestamp(WallTime time);
google::protobuf::Duration toDuration(Duration duration);

v1::UnitState toProto(UnitState state);
v1::ExitKind toProto(ExitView::Kind kind);
v1::RestartPolicy toProto(RestartPolicyKind policy);
v1::ProbeState toProto(ProbeState state);
v1::ProbeKind toProto(ProbeSpec::Kind kind);

void fillExit(const ExitView& exit, v1::ExitDetails* out);
void fillInstance(const InstanceView& instance, v1::Instance* out);
void fillProbeStatus(const ProbeView& probe, v1::ProbeStatus* out);
void fillLivenessProbe(const ProbeSpec& probe, v1::LivenessProbe* out);

// Units in ListUnits, heartbeats and events carry their latest two instances (the current one
// and the last one that ended); GetUnit carries all of them.
inline constexpr size_t kSummaryInstances = 2;
inline constexpr size_t kAllInstances = static_cast<size_t>(-1);

// `clock` turns the view's monotonic times (the next start) into wall time.
void fillUnit(const UnitEntry& unit, const ClockMapping& clock, size_t max_instances,
              v1::Unit* out);
void fillUnitConfig(const UnitConfigView& config, v1::UnitConfig* out);
void fillUsage(const UsageSample& usage, v1::NodeUsage* out);

}  // namespace vigie
