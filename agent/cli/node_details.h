#pragma once

#include <string>

#include "vigie/time.h"
#include "vigie/v1/agent.pb.h"

namespace vigie::cli {

// `vigiectl node`: what the node is (host, kernel, cgroups, CPUs, memory), how busy it is (load,
// memory, pressure when the kernel has PSI, the state disk) and the agent's version and uptime.
std::string renderNode(const v1::GetNodeResponse& response, WallTime now);

}  // namespace vigie::cli
