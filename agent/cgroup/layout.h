// Which cgroup hierarchies the host mounts, and where this process sits in them.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "vigie/cgroup.h"
#include "vigie/result.h"

namespace vigie {

// The layout mounted at `cgroup_root` (normally /sys/fs/cgroup): a cgroup2 there is unified; v1
// hierarchies with a cgroup2 at unified/ is hybrid; v1 alone is legacy.
CgroupLayout detectCgroupLayout(const std::string& cgroup_root);
std::string_view cgroupLayoutName(CgroupLayout layout);  // "unified (v2)", "hybrid ..."

// A process's place in each hierarchy, from /proc/PID/cgroup.
struct ProcCgroups {
  std::string unified;                    // the "0::" line's path; "" without one.
  std::map<std::string, std::string> v1;  // controller ("memory", "cpu") -> path.
};
ProcCgroups parseProcCgroups(std::string_view text);
Result<ProcCgroups> readProcCgroups(const std::string& path = "/proc/self/cgroup");

// "a/b" under "/x" is "/x/a/b"; an absolute `path` ("/a/b") stays as it is. No "//".
std::string joinCgroupPath(std::string_view base, std::string_view path);

}  // namespace vigie
