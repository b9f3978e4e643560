#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/config.h"
#include "vigie/time.h"
#include "vigie/unit_lifecycle.h"

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

  bool operator==(const ExitView&) const = default;
};

struct InstanceView {
  uint64_t id = 0;
  pid_t pid = 0;  // 0 when it never ran
  WallTime started{};
  std::optional<ExitView> exit;  // unset while it runs

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

  const UnitEntry* find(std::string_view name) const;
};

}  // namespace vigie
