// Private to the config loader: the nested sections of a workload (restart, stop, output), and
// the top-level storage section.
#pragma once

#include <string>

#include "agent/config/yaml_fields.h"
#include "vigie/config.h"

namespace vigie::config_detail {

// Each reads the section at `entry` under `parent` (e.g. "workloads[0]") into the spec, which
// keeps its defaults wherever the section is silent or wrong.
void readRestart(const MapEntry& entry, const std::string& parent, RestartSpec& restart,
                 Diagnostics& diag);
void readStop(const MapEntry& entry, const std::string& parent, StopSpec& stop, Diagnostics& diag);
void readOutput(const MapEntry& entry, const std::string& parent, OutputSpec& output,
                Diagnostics& diag);
// The top-level `storage:` section.
void readStorage(const MapEntry& entry, StorageSpec& storage, Diagnostics& diag);

}  // namespace vigie::config_detail
