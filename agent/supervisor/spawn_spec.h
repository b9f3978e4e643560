#pragma once

#include <string>
#include <vector>

#include "vigie/config.h"
#include "vigie/process.h"
#include "vigie/result.h"

namespace vigie {

// Everything a workload's spawn needs, computed once per spec so that a restart computes nothing:
// argv, the environment (the agent's, then HOME/USER/LOGNAME for `user`, then the unit's env),
// cwd, credentials resolved through NSS, umask, rlimits and oom_score_adj.
Result<SpawnSpec> makeSpawnSpec(const std::vector<std::string>& base_env, const WorkloadSpec& spec);

}  // namespace vigie
