// Private to the config loader: the keys of a workload that shape its process (command line,
// credentials, umask, resource limits).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "agent/config/yaml_fields.h"
#include "vigie/config.h"

namespace vigie::config_detail {

// Each reads `field` (e.g. "workloads[0].user") into its target, which keeps its default when the
// value is wrong. Users and groups are looked up through NSS: an unknown one is a config error.
void readUser(const Field& field, std::string& user, Diagnostics& diag);
void readGroup(const Field& field, std::string& group, Diagnostics& diag);
void readUmask(const Field& field, uint32_t& umask, Diagnostics& diag);
// A non-empty list of strings whose first one (the program) is not empty; `out` is left as it
// was unless every element is valid.
bool readArgv(const Field& field, std::vector<std::string>& out, Diagnostics& diag);
// A map of environment variables (names of letters, digits and "_", not starting with a digit),
// appended to `env` in file order; shared by a workload's `env` and its `container.env`. False
// when something was wrong.
bool readEnv(const Field& field, std::vector<std::pair<std::string, std::string>>& env,
             Diagnostics& diag);
// A map from limit name to a value or to {soft, hard}; the limits are appended in file order.
void readRlimits(const Field& field, std::vector<RlimitSpec>& rlimits, Diagnostics& diag);

}  // namespace vigie::config_detail
