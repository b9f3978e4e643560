#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "vigie/config.h"
#include "vigie/process.h"
#include "vigie/result.h"
#include "vigie/time.h"

namespace vigie {

// How the host mounts cgroups.
enum class CgroupLayout {
  kNone,     // no cgroup filesystem found
  kLegacy,   // v1 hierarchies only
  kHybrid,   // v1 controllers, plus a cgroup2 at <root>/unified
  kUnified,  // cgroup2 only
};

// What a unit's cgroup saw during one instance, from its start to its exit. A field is unset when
// the host cannot tell it for one instance alone.
struct CgroupInstanceStats {
  std::optional<uint64_t> memory_peak_bytes;
  std::optional<Duration> cpu_time;   // user + system, every process of the cgroup.
  std::optional<uint64_t> oom_kills;  // the OOM killer's kills in the cgroup during this instance.

  bool operator==(const CgroupInstanceStats&) const = default;
};

// One unit's cgroup (one directory per hierarchy it uses). Kept across the unit's restarts and
// reloads; the destructor removes it, which works once it is empty (stopped units are).
// Loop thread only.
class UnitCgroup {
 public:
  virtual ~UnitCgroup() = default;

  // "memory:/vigie/web cpu:/vigie/web 0::/vigie/web", for logs.
  virtual std::string describe() const = 0;
  // Writes the limits (all of them: an unset one is reset to "no limit"). An error names the
  // limits the host cannot enforce, unless `resources.optional`, where they are only warned about.
  virtual Status apply(const ResourcesSpec& resources) = 0;
  // Where the spawner puts a new process. Its fds stay open as long as this object.
  virtual CgroupPlacement placement() const = 0;
  // Just before an instance is spawned: takes the counters' baselines.
  virtual void beginInstance() = 0;
  // Once the instance's main process has been reaped: the stats since beginInstance().
  virtual CgroupInstanceStats endInstance() = 0;
  // SIGKILLs every process left in the cgroup. `on_empty` runs on the loop once the cgroup is
  // empty, from inside this call when it is empty already. A later call replaces a pending one.
  virtual void killAll(std::function<void()> on_empty) = 0;
  // Whether killAll() is still waiting for the cgroup to empty.
  virtual bool killing() const = 0;
  // Whether a new instance may start while killAll() is still waiting. False where the kill is
  // a loop over cgroup.procs (v1), which would take the new instance with the leftovers.
  virtual bool startsWhileKilling() const = 0;
};
using UnitCgroupPtr = std::unique_ptr<UnitCgroup>;

// Creates units' cgroups. Loop thread only.
class CgroupManager {
 public:
  virtual ~CgroupManager() = default;

  virtual CgroupLayout layout() const = 0;
  // Creates the unit's cgroup (or takes over the one a previous agent left, killing what runs
  // there) and applies `resources`. ok(nullptr): vigied runs without cgroups and `resources`
  // holds no limit that needs one (or only optional ones). An error: the unit cannot start as
  // configured; the message says why.
  virtual Result<UnitCgroupPtr> createUnit(const std::string& unit,
                                           const ResourcesSpec& resources) = 0;
};

}  // namespace vigie
