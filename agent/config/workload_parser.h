// Private to the config loader: one entry of the `workloads:` list.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>

#include "agent/config/yaml_fields.h"
#include "vigie/config.h"

namespace vigie::config_detail {

struct ParsedWorkload {
  WorkloadSpec spec;                    // defaults where the entry is silent or wrong.
  std::optional<YAML::Mark> name_mark;  // set when the name is valid, for duplicate checks.
};

// Reads `entry` (the element at `field.path`, e.g. "workloads[2]"), reporting every problem.
ParsedWorkload parseWorkload(const Field& field, Diagnostics& diag);

}  // namespace vigie::config_detail
