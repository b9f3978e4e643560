#pragma once

#include <string>

#include "agent/crash/incident_status.h"
#include "agent/supervisor/instance.h"
#include "vigie/config.h"
#include "vigie/process.h"
#include "vigie/time.h"
#include "vigie/v1/crash.pb.h"

namespace vigie {
class Unit;
}

namespace vigie::crash {

// Whether an instance's end is an incident: a code outside success_exit_codes, a signal, a
// core. While the unit is being stopped, the stop signal (or an exit code on the way out) is
// expected: only a core dump counts then.
bool isAbnormalEnd(const WorkloadSpec& spec, const ExitStatus& status, bool stopping);

// "exited", "signaled", "core-dumped", "lost".
std::string endReason(const ExitStatus& status);

// FNV-1a 64 (hex) of the fields that define the process (those of processDefinitionDiffers).
std::string specHash(const WorkloadSpec& spec);

// A time-sortable incident id, the same shape as the helper's capture ids.
std::string makeIncidentId(WallTime at, pid_t pid);

// The incident for an instance's abnormal end: PENDING when `core_expected`, else NO_CORE.
v1::CrashIncident incidentForInstance(const Unit& unit, const InstanceRecord& instance,
                                      const std::string& id, bool core_expected, WallTime now);

// Folds the helper's report in (process details, backtrace, core, fingerprint) and settles
// the status from its outcome. `core_expected`: whether the incident waited for a core.
void applyReport(v1::CrashIncident& incident, const v1::CaptureReport& report,
                 const std::string& entry, WallTime now);

// A crash of a process that is no unit's instance: a node-level record from the report alone.
v1::CrashIncident nodeIncident(const v1::CaptureReport& report, const std::string& entry,
                               WallTime now);

// A spool entry whose report cannot be read: an error record, so the failure is visible.
v1::CrashIncident unreadableReportIncident(const std::string& entry, const std::string& error,
                                           WallTime now);

// Marks a pending incident timed out.
void markTimedOut(v1::CrashIncident& incident, WallTime now);

}  // namespace vigie::crash
