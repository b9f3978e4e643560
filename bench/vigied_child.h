// vigied as a child of a benchmark (restart_latency, heartbeat_qps, container_restart): started
// with fork + exec so that it gets SIGTERM when the benchmark dies, its output in a log file,
// and stopped with SIGTERM, then SIGKILL (to its process group) after a grace period.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vigie/result.h"

namespace vigie::bench {

// vigied's arguments every benchmark passes: its config, state dir and socket, and
// --core-pattern leave (a benchmark has no business with the host's core_pattern, and a vigied
// killed at the end would leave its own pattern behind). Callers append what else they need.
std::vector<std::string> vigiedArgs(const std::string& vigied, const std::string& config,
                                    const std::string& state_dir, const std::string& socket);

struct VigiedChildOptions {
  std::vector<std::string> args;  // args[0]: the vigied binary (an absolute path or relative).
  std::string log;                // its stdout and stderr.
  bool append_log = false;        // else the log is truncated.
  bool null_stdin = true;         // else it shares ours.
  // Its own process group: if it has to be killed, whatever it left in the group goes too.
  bool own_group = true;
  std::vector<std::string> env;  // "NAME=value", added to (or replacing) ours.
  int64_t stop_grace_ns = 15'000'000'000;
};

class VigiedChild {
 public:
  static Result<VigiedChild> start(const VigiedChildOptions& options);

  VigiedChild(VigiedChild&& other) noexcept;
  VigiedChild(const VigiedChild&) = delete;
  VigiedChild& operator=(const VigiedChild&) = delete;
  VigiedChild& operator=(VigiedChild&&) = delete;
  ~VigiedChild() { (void)stop(); }

  pid_t pid() const { return pid_; }

  // The wait status if it has exited on its own (it is then reaped), nothing if it runs.
  std::optional<int> exited();
  bool running() { return pid_ > 0 && !exited(); }

  // SIGTERM, a bounded wait, then SIGKILL. Its wait status (0 when it was not ours to reap);
  // an error if SIGKILL was needed. Nothing to do (status 0) once it has been stopped or reaped.
  Result<int> stop();

 private:
  VigiedChild(pid_t pid, int64_t stop_grace_ns, bool own_group)
      : pid_(pid), stop_grace_ns_(stop_grace_ns), own_group_(own_group) {}

  pid_t pid_;
  int64_t stop_grace_ns_;
  bool own_group_;
};

}  // namespace vigie::bench
