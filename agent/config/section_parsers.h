// Private to the config loader: the nested sections of a workload (restart, stop, output), and
// the top-level sections of the main file (storage, api, metrics).
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "agent/config/yaml_fields.h"
#include "vigie/config.h"

namespace vigie::config_detail {

// Opens an optional nested section, reporting keys not in `keys`; a null section ("restart:")
// keeps every default.
std::optional<MapView> openSection(const MapEntry& entry, std::string_view parent_path,
                                   std::initializer_list<std::string_view> keys, Diagnostics& diag);

// Each reads the section at `entry` under `parent` (e.g. "workloads[0]") into the spec, which
// keeps its defaults wherever the section is silent or wrong.
void readRestart(const MapEntry& entry, const std::string& parent, RestartSpec& restart,
                 Diagnostics& diag);
void readStop(const MapEntry& entry, const std::string& parent, StopSpec& stop, Diagnostics& diag);
void readOutput(const MapEntry& entry, const std::string& parent, OutputSpec& output,
                Diagnostics& diag);
// The top-level `storage:` section.
void readStorage(const MapEntry& entry, StorageSpec& storage, Diagnostics& diag);
// The top-level `api:` section: the unix socket, the optional TCP+mTLS listener, limits
// (api_section.cc).
void readApi(const MapEntry& entry, ApiSpec& api, Diagnostics& diag);
// The top-level `metrics:` section: the HTTP endpoint and the /healthz threshold.
void readMetrics(const MapEntry& entry, MetricsSpec& metrics, Diagnostics& diag);
// The top-level `crash:` section: core_pattern, the helper's budgets, retention
// (crash_section.cc).
void readCrash(const MapEntry& entry, CrashSpec& crash, Diagnostics& diag);
// The top-level `cgroups:` section: mode and parent (cgroup_section.cc).
void readCgroups(const MapEntry& entry, CgroupsSpec& cgroups, Diagnostics& diag);
// A workload's `liveness:` probe and `watchdog:` period (health_section.cc).
void readLiveness(const MapEntry& entry, const std::string& parent,
                  std::optional<ProbeSpec>& liveness, Diagnostics& diag);
void readWatchdog(const Field& field, std::optional<Duration>& watchdog, Diagnostics& diag);
// A workload's `resources:` limits (cgroup_section.cc).
void readResources(const MapEntry& entry, const std::string& parent, ResourcesSpec& resources,
                   Diagnostics& diag);

// A workload's `container:` section (container_section.cc): `out` is set only when the section
// is valid.
void readContainer(const MapEntry& entry, const std::string& parent,
                   std::optional<ContainerSpec>& out, Diagnostics& diag);

}  // namespace vigie::config_detail
