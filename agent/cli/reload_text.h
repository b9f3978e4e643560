#pragma once

#include <string>

#include "vigie/v1/agent.pb.h"

namespace vigie::cli {

// "1 added (web), 1 restarted (api), 3 unchanged"; "nothing changed" for an empty summary.
std::string describeReloadSummary(const v1::ReloadSummary& summary);

// One "file:line:col: message" line per error, as `vigied --check-config` prints them.
std::string renderConfigErrors(const v1::ReloadConfigResponse& response);

}  // namespace vigie::cli
