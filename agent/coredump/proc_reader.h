#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "agent/os/unique_fd.h"
#include "vigie/v1/crash.pb.h"

namespace vigie::coredump {

struct RedactionRules {
  std::vector<std::string> env_key_patterns;
  std::vector<std::string> arg_patterns;
};

// What the helper keeps of a crashed process, read while the kernel holds it for the dump.
struct ProcessCapture {
  v1::CrashProcess process;
  // The executable, opened through /proc/PID/exe: the very file that ran, even inside a
  // container or after an upgrade replaced it.
  UniqueFd exe_fd;
  // O_PATH of /proc/PID/root: the process's root directory, through which the libraries of a
  // container process resolve later (with RESOLVE_IN_ROOT, so that its absolute symlinks stay
  // inside it).
  UniqueFd root_fd;
  bool vanished = false;            // /proc/PID did not exist
  std::vector<std::string> errors;  // what could not be read, one line each
};

// Reads /proc/PID (exe, cmdline, cwd, environ, maps, status, stat, cgroup, limits, root).
// `proc` is the procfs mount point (a test may point it elsewhere).
ProcessCapture readCrashedProcess(pid_t pid, pid_t tid, const RedactionRules& rules,
                                  const std::string& proc = "/proc");

}  // namespace vigie::coredump
