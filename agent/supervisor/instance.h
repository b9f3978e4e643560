#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "agent/logs/output_reader.h"
#include "agent/logs/ring_buffer.h"
#include "vigie/cgroup.h"
#include "vigie/health.h"
#include "vigie/process.h"
#include "vigie/time.h"

namespace vigie {

// One run of a unit's command: from spawn (or a failed spawn) to exit, with its output tail.
// Records outlive their process: a unit keeps the last `history` of them.
struct InstanceRecord {
  InstanceRecord(uint64_t instance_id, size_t tail_bytes)
      : id(instance_id), stdout_tail(tail_bytes), stderr_tail(tail_bytes) {}

  uint64_t id;  // 1, 2, 3... per unit.
  pid_t pid = 0;
  uint64_t start_ticks = 0;  // with pid, names the process for re-adoption.
  MonoTime started_mono{};
  WallTime started_wall{};
  std::optional<ExitStatus> exit;
  std::string spawn_error;  // set when it never ran.
  // What the unit's cgroup saw during this instance (units with a cgroup).
  std::optional<CgroupInstanceStats> cgroup_stats;
  // Its end was the OOM killer's: SIGKILLed while the cgroup's OOM kill count rose during this
  // very instance (an earlier instance's OOM kills never count).
  bool oom_killed = false;
  // Readiness, STATUS=, the liveness probe's record, and why the agent ended it, if it did.
  InstanceHealth health;
  RingBuffer stdout_tail;
  RingBuffer stderr_tail;

  ProcessPtr process;
  std::unique_ptr<OutputReader> stdout_reader;
  std::unique_ptr<OutputReader> stderr_reader;

  bool running() const { return process != nullptr && !exit && spawn_error.empty(); }
};

}  // namespace vigie
