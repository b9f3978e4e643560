#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "agent/os/unique_fd.h"
#include "vigie/result.h"

namespace vigie::coredump {

// Expands the kernel's core_pattern specifiers (%P, %p, %i, %I, %u, %g, %s, %t, %h, %e, %E, %f,
// %c, %d, %C, %%) in a pipe pattern, and splits it into argv at spaces as the kernel does.
// `values` maps a specifier letter to its text; unknown specifiers expand to nothing, like the
// kernel's. The leading '|' is dropped.
std::vector<std::string> expandPipePattern(const std::string& pattern,
                                           const std::map<char, std::string>& values);

// The previous core handler, started with a pipe as its stdin.
struct ForwardProcess {
  pid_t pid = -1;
  UniqueFd stdin_pipe;  // write end: the core goes in here
};

// Starts argv[0] (an absolute path) with the kernel's helper environment.
Result<ForwardProcess> startForward(const std::vector<std::string>& argv);

}  // namespace vigie::coredump
