#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "agent/api/node_snapshot.h"
#include "agent/crash/crash_index.h"
#include "vigie/time.h"

namespace vigie {

using NodeSnapshotPtr = std::shared_ptr<const NodeSnapshot>;

// How long removed units are remembered. A poller further behind than the oldest tombstone
// kept gets the full state instead of a diff.
struct TombstoneLimits {
  size_t max_count = 1024;
  Duration max_age = std::chrono::hours(1);
};

// A random, non-zero 64-bit agent epoch (getrandom), new on each start.
uint64_t newAgentEpoch();

// Publishes the API's snapshots. The loop thread calls publish() after its changes; any thread
// calls current() and gets an immutable snapshot, without ever touching loop state.
//
// Revisions are state-based: publish() compares each unit's new view with the one published
// before, and only when something differs does the revision move (by one per publish), stamped
// on the units that changed and on the tombstones of the units that are gone. Publishing an
// unchanged state changes nothing, so an idle node's revision stays put. Crash incidents are
// versioned the same way (crash_state.h), in the same revision sequence.
class SnapshotPublisher {
 public:
  explicit SnapshotPublisher(uint64_t epoch, TombstoneLimits limits = {});
  SnapshotPublisher(const SnapshotPublisher&) = delete;
  SnapshotPublisher& operator=(const SnapshotPublisher&) = delete;

  // Loop thread only. `units` is the whole running set, in config order (unit names are
  // unique); `clock` is a reading of both clocks, used to age tombstones and, by readers, to turn
  // monotonic times into wall times. `crashes`: the crash tracker's latest index (null: the
  // crash part stays as it was). Returns whether a new snapshot was published: a new revision,
  // or only a newer crash index (details and core_pattern state that no heartbeat carries).
  bool publish(std::vector<UnitView> units, ClockMapping clock,
               const crash::CrashIndex* crashes = nullptr);

  // Any thread. Never null: before the first publish, an empty snapshot at revision 0.
  NodeSnapshotPtr current() const;
  // Loop thread only: what it last published, without taking the readers' lock.
  const NodeSnapshot& latest() const { return *latest_; }

 private:
  TombstoneLimits limits_;
  NodeSnapshotPtr latest_;  // the loop's own reference to what it last published
  // The lock guards only the pointer swap and copy (a reference count increment), never loop
  // state: neither side can hold it for long. (libstdc++ 12's std::atomic<std::shared_ptr> is
  // reported racy by ThreadSanitizer, hence a plain mutex.)
  mutable std::mutex published_mutex_;
  NodeSnapshotPtr published_;
};

}  // namespace vigie
