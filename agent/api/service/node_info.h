#pragma once

#include <cstdint>
#include <string>

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

// The cgroup layout mounted at `cgroup_root`: cgroup2 there is unified; v1 hierarchies with a
// cgroup2 at unified/ is hybrid; v1 alone is legacy.
v1::CgroupLayout detectCgroupLayout(const std::string& cgroup_root);

}  // namespace vigie
