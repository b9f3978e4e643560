#pragma once

// Root filesystems and runtime state for the container tests.

#include <string>
#include <vector>

namespace vigie::testing {

// A busybox-static root filesystem at `path`: /bin/busybox with links for its applets (sh,
// sleep, echo, hostname...), and, when given, the static programs `crasher` as /bin/crash and
// `health` as /bin/health. Returns `path`.
std::string makeBusyboxRootfs(const std::string& path, const std::string& crasher = "",
                              const std::string& health = "");

// build/tests/helpers/crashers/segv_deep_static.
std::string staticCrasherPath();
// build/tests/helpers/health_workload_static.
std::string staticHealthWorkloadPath();

// The ids of the containers runc knows under `state_root` (`runc --root ROOT list -q`).
std::vector<std::string> runcContainers(const std::string& state_root);

}  // namespace vigie::testing
