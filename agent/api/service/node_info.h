#pragma once

#include <cstdint>
#include <string>

#include "vigie/cgroup.h"
#include "vigie/time.h"
#include "vigie/v1/agent.pb.h"

namespace vigie {

struct NodeInfoSources {
  std::string proc_root = "/proc";
  std::string machine_id_file = "/etc/machine-id";
  std::string cgroup_root = "/sys/fs/cgroup";
};

// What does not change while the agent runs: read once at start (GetNode serves a copy).
v1::NodeInfo readNodeInfo(uint64_t epoch, WallTime agent_start,
                          const NodeInfoSources& sources = {});

// The API's name for a cgroup layout (agent/cgroup/layout.h detects it).
v1::CgroupLayout toProto(CgroupLayout layout);

}  // namespace vigie
