#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "agent/os/unique_fd.h"
#include "vigie/result.h"
#include "vigie/time.h"
#include "vigie/v1/crash.pb.h"

namespace vigie::crash {

using IncidentPtr = std::shared_ptr<const v1::CrashIncident>;

// Incidents of one fingerprint.
struct CrashGroup {
  std::string fingerprint;
  uint64_t count = 0;
  WallTime first_seen{};
  WallTime last_seen{};
  std::string first_id;
  std::string last_id;
  uint64_t cores_removed = 0;  // records of the group whose core retention removed
};

// vigie's hold on the host's core_pattern.
struct CorePatternState {
  bool managed = false;    // crash.core_pattern: install
  bool installed = false;  // ours was written and read back
  bool drift = false;      // the kernel's pattern is not ours anymore
  std::string expected;    // ours
  std::string current;     // as last read
  std::string error;       // why installing failed
};

// What the API reads about crashes: an immutable snapshot, published by the loop after each
// change. Any thread may hold one and read it; incidents are shared between snapshots.
struct CrashIndex {
  uint64_t version = 0;
  std::string store_dir;
  std::vector<IncidentPtr> incidents;  // by id: oldest first
  std::vector<CrashGroup> groups;      // by fingerprint
  CorePatternState core_pattern;
  // The store has been read: incidents that appear from now on are new crashes, not old records.
  bool loaded = false;
  // Incidents whose latest version is still queued for the disk: their files (record dir,
  // report.pb, core.zst) may not be in place yet. The API shows the version last written.
  std::set<std::string> writing;

  IncidentPtr find(const std::string& id) const;
  // Ids newer than `after` (an id; "" for all), oldest first: what a Heartbeat reports.
  std::vector<std::string> idsAfter(const std::string& after) const;
};
using CrashIndexPtr = std::shared_ptr<const CrashIndex>;

// Opens one of a record's files read-only ("incident.json", "report.pb", "core.zst"). The fd
// stays readable even if retention removes the record meanwhile.
Result<UniqueFd> openIncidentFile(const CrashIndex& index, const std::string& id,
                                  const std::string& name);

// Holds the latest index for readers on any thread.
class CrashIndexPublisher {
 public:
  CrashIndexPublisher();
  CrashIndexPtr current() const;
  void publish(CrashIndexPtr index);
  // Called after each publish, on the publishing (loop) thread: the API republishes its own
  // snapshot from it. Add listeners before the loop runs.
  void addListener(std::function<void()> listener);

 private:
  mutable std::mutex mutex_;
  CrashIndexPtr current_;
  std::vector<std::function<void()>> listeners_;
};

}  // namespace vigie::crash
