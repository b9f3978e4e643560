#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>

#include "vigie/v1/crash.pb.h"

namespace vigie::coredump {

struct SymbolizeInput {
  int core_fd = -1;  // the drained core (read with pread; its offset is not used)
  int exe_fd = -1;   // the crashed executable (/proc/PID/exe), or -1
  int root_fd = -1;  // the crashed process's root (O_PATH), or -1
  bool in_container = false;
  std::string exe_path;   // for names only
  pid_t crashed_tid = 0;  // in the process's own pid namespace; 0: the core's first thread
  size_t max_threads = 256;
  size_t max_frames = 64;
};

// Unwinds every thread of the core with libdw (as systemd's elf-util does): per frame the pc,
// the function (demangled), the module, its build-id and the offset in it, and file:line when
// debug info is there. Modules are looked up by build-id: the saved executable first, then
// through the process's root (containers), then the host's usual places.
// Runs in the calling process: a malformed core can crash libdw, see symbolizeIsolated.
v1::Backtrace symbolizeCore(const SymbolizeInput& input);

struct IsolatedResult {
  v1::Backtrace backtrace;
  bool timed_out = false;
};

// symbolizeCore in a child process that cannot dump core, bounded by `timeout`: a crash or a
// hang in libdw ends in Backtrace.error instead of taking the helper down.
IsolatedResult symbolizeIsolated(const SymbolizeInput& input, std::chrono::milliseconds timeout);

}  // namespace vigie::coredump
