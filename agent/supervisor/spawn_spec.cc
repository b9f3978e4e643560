#include "agent/supervisor/spawn_spec.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

#include "agent/os/credentials.h"

namespace vigie {
namespace {

std::string envKey(const std::string& entry) {
  return entry.substr(0, entry.find('='));
}

// Sets name=value, replacing an existing entry of that name.
void setEnv(std::vector<std::string>& env, const std::string& name, const std::string& value) {
  std::string entry = name;
  entry.append("=").append(value);
  auto it =
      std::find_if(env.begin(), env.end(), [&](const std::string& e) { return envKey(e) == name; });
  if (it != env.end()) {
    *it = std::move(entry);
  } else {
    env.push_back(std::move(entry));
  }
}

}  // namespace

Result<SpawnSpec> makeSpawnSpec(const std::vector<std::string>& base_env,
                                const WorkloadSpec& spec) {
  SpawnSpec out;
  out.argv = spec.exec;
  out.cwd = spec.cwd.empty() ? "/" : spec.cwd;
  out.capture_output = true;
  out.umask = spec.umask;
  out.oom_score_adj = spec.oom_score_adj;
  const bool core_limit_given =
      std::any_of(spec.rlimits.begin(), spec.rlimits.end(),
                  [](const RlimitSpec& limit) { return limit.resource == RLIMIT_CORE; });
  if (!core_limit_given) {
    // `core:` (default on): cores up to the hard limit we hold (unlimited for root), or none.
    // An explicit `rlimits: {core: ...}` wins.
    struct rlimit held {};
    ::getrlimit(RLIMIT_CORE, &held);
    out.rlimits.push_back(ResourceLimit{RLIMIT_CORE, spec.core ? held.rlim_max : 0, held.rlim_max});
  }
  for (const RlimitSpec& limit : spec.rlimits) {
    out.rlimits.push_back(ResourceLimit{limit.resource, limit.soft, limit.hard});
  }
  out.env = base_env;
  if (!spec.user.empty()) {
    auto credentials = resolveCredentials(spec.user, spec.group);
    if (!credentials) {
      return credentials.error();
    }
    setEnv(out.env, "HOME", credentials->home);
    setEnv(out.env, "USER", credentials->user);
    setEnv(out.env, "LOGNAME", credentials->user);
    out.credentials = std::move(*credentials);
  } else if (!spec.group.empty()) {
    // A group alone: keep the agent's user, switch the group and drop other groups.
    auto gid = resolveGroup(spec.group);
    if (!gid) {
      return gid.error();
    }
    Credentials credentials;
    credentials.uid = ::getuid();
    credentials.gid = *gid;
    credentials.groups = {*gid};
    out.credentials = std::move(credentials);
  }
  for (const auto& [name, value] : spec.env) {
    setEnv(out.env, name, value);
  }
  return out;
}

}  // namespace vigie
