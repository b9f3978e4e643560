#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vigie {

// The start time of a process in clock ticks after boot (field 22 of /proc/PID/stat). With the
// pid it identifies a process for good: a reused pid has another start time.
std::optional<uint64_t> readProcStartTicks(pid_t pid);

// The pids listed in a /proc/PID/task/TID/children file: the children of that thread.
std::vector<pid_t> readChildren(const std::string& children_file);

}  // namespace vigie
