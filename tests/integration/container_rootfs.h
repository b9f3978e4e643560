#pragma once

// Root filesystems and runtime state for the container tests.

#include <string>
#include <vector>

namespace vigie::testing {

// A busybox-static root filesystem at `path`: /bin/busybox with links for its applets (sh,
// sleep, echo, hostname...), and, when `crasher` is given, that static program as /bin/crash.
// Returns `path`.
std::string makeBusyboxRootfs(const std::string& path, const std::string& crasher = "");

// build/tests/helpers/crashers/segv_deep_static.
std::string staticCrasherPath();

// The ids of the containers runc knows under `state_root` (`runc --root ROOT list -q`).
std::vector<std::string> runcContainers(const std::string& state_root);

}  // namespace vigie::testing
