#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/crash/crash_index.h"
#include "vigie/cgroup.h"
#include "vigie/config.h"
#include "vigie/health.h"
#include "vigie/time.h"
#include "vigie/unit_lifecycle.h"
#include "vigie/v1/agent.pb.h"

namespace vigie {

// What the API shows of the supervisor, as plain values. Views are built on the loop thread
// (unit_view.h) and compared with ==: a unit's revision moves only when its view changes, so
// every field here must be stable while nothing happens (no "now", no uptime).

// How an instance ended: the exit status, the restart policy's verdict, and its resource usage.
struct ExitView {
  enum class Kind { kExited, kKilled, kDumped, kLost, kSpawnFailed };
  Kind kind = Kind::kExited;
  int code = 0;             // kExited
  int signal = 0;           // kKilled, kDumped
  bool success = false;     // a success under the unit's success_exit_codes
  std::string spawn_error;  // kSpawnFailed
  std::string description;  // "exit code 1", "signal SIGSEGV (core dumped)"
  WallTime at{};
  Duration runtime{};  // from start to exit
  Duration user_cpu{};
  Duration system_cpu{};
  uint64_t max_rss_bytes = 0;
  bool oom_killed = false;                    // SIGKILLed by the OOM killer in this instance
  std::optional<CgroupInstanceStats> cgroup;  // units with a cgroup
  EndReason end_reason = EndReason::kNone;    // the agent ended it for a failed health check
  std::string end_detail;                     // "HTTP 500 (3 failures in a row)"

  bool operator==(const ExitView&) const = default;
};

// A liveness probe's record, without what changes on every run (the time of the latest pass):
// a passing probe leaves the view, and the unit's revision, alone.
struct ProbeView {
  ProbeState state = ProbeState::kPending;
  uint32_t consecutive_failures = 0;
  uint32_t failure_threshold = 0;
  uint64_t failures = 0;
  std::string last_status;
  std::string last_failure;
  std::string last_failure_output;
  std::optional<WallTime> last_failure_time;

  bool operator==(const ProbeView&) const = default;
};

struct InstanceView {
  uint64_t id = 0;
  pid_t pid = 0;  // 0 when it never ran
  WallTime started{};
  std::optional<ExitView> exit;  // unset while it runs
  bool ready = false;
  std::string notify_status;
  std::optional<ProbeView> liveness;

  bool operator==(const InstanceView&) const = default;
};

// The parts of a unit's config the API shows.
struct UnitConfigView {
  std::vector<std::string> exec;
  std::string cwd;
  std::string user;
  std::string group;
  RestartPolicyKind restart_policy = RestartPolicyKind::kAlways;
  std::string file;
  int line = 0;
  int column = 0;
  bool notify = false;
  std::optional<Duration> watchdog;
  std::optional<ProbeSpec> liveness;
  std::optional<ContainerSpec> container;

  bool operator==(const UnitConfigView&) const = default;
};

struct UnitView {
  std::string name;
  UnitState state = UnitState::kStopped;
  pid_t pid = 0;  // the current instance's, 0 when nothing runs
  // Kept on the monotonic clock, which makes it stable; converted to wall time for the API with
  // the snapshot's ClockMapping.
  std::optional<MonoTime> next_start;
  bool stopped_by_operator = false;
  bool ready = false;  // the current instance runs and is ready
  uint32_t restart_count = 0;
  uint64_t total_restarts = 0;
  uint64_t failed_starts = 0;
  std::vector<InstanceView> instances;  // oldest first
  UnitConfigView config;

  bool operator==(const UnitView&) const = default;
};

// Turns monotonic times into wall times, as of one reading of both clocks.
struct ClockMapping {
  MonoTime mono{};
  WallTime wall{};

  WallTime toWall(MonoTime t) const {
    return wall + std::chrono::duration_cast<WallTime::duration>(t - mono);
  }
};

struct UnitEntry {
  UnitView view;
  uint64_t revision = 0;  // the revision at which the view last changed
};

// What is left of a removed unit, for a bounded time and count.
struct Tombstone {
  std::string name;
  uint64_t revision = 0;  // the revision that removed it
  MonoTime removed_at{};
};

// One crash incident as the API shows it: the version last written to the crash store, so that
// its files (report.pb, core.zst) are in place whenever the API names it.
struct CrashEntry {
  crash::IncidentPtr incident;
  std::shared_ptr<const v1::CrashSummary> summary;  // its `revision` is left unset
  uint64_t revision = 0;  // the revision at which the summary last changed
};

// What the API reads of crash capture (crash_state.h builds it from the tracker's CrashIndex).
struct CrashState {
  bool enabled = false;  // an index was published: crash capture runs
  bool loaded = false;   // the store has been read (CrashIndex::loaded)
  uint64_t index_version = 0;
  std::string store_dir;
  crash::CorePatternState core_pattern;
  std::vector<CrashEntry> entries;    // by id, oldest first
  std::vector<Tombstone> tombstones;  // incidents retention removed (name: the id), by revision

  const CrashEntry* find(std::string_view id) const;
};

// Everything the API reads, at one revision. Immutable once published: readers on any thread
// share it through std::shared_ptr<const NodeSnapshot>.
struct NodeSnapshot {
  uint64_t epoch = 0;     // random, new on each agent start
  uint64_t revision = 0;  // +1 for each published change; 0 before the first
  // The oldest `since` revision a diff can answer. Tombstones removed after older revisions have
  // been dropped, so a caller that far behind gets the full state.
  uint64_t oldest_diffable = 0;
  ClockMapping clock;
  std::vector<UnitEntry> units;       // in config order
  std::vector<Tombstone> tombstones;  // by revision, oldest first
  CrashState crashes;

  const UnitEntry* find(std::string_view name) const;
};

}  // namespace vigie
