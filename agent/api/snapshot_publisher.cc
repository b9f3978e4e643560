#include "agent/api/snapshot_publisher.h"

#include <sys/random.h>

#include <algorithm>
#include <random>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "agent/api/crash_state.h"

namespace vigie {
namespace {

// Drops tombstones past the limits, oldest first, and raises the diff floor past them.
bool pruneTombstones(std::vector<Tombstone>& tombstones, uint64_t& oldest_diffable,
                     const TombstoneLimits& limits, MonoTime now) {
  size_t drop = 0;
  while (drop < tombstones.size()) {
    const Tombstone& oldest = tombstones[drop];
    const bool too_many = tombstones.size() - drop > limits.max_count;
    const bool too_old = now - oldest.removed_at >= limits.max_age;
    if (!too_many && !too_old) {
      break;
    }
    oldest_diffable = std::max(oldest_diffable, oldest.revision);
    ++drop;
  }
  tombstones.erase(tombstones.begin(), tombstones.begin() + static_cast<std::ptrdiff_t>(drop));
  return drop > 0;
}

}  // namespace

uint64_t newAgentEpoch() {
  uint64_t epoch = 0;
  while (epoch == 0) {
    if (getrandom(&epoch, sizeof(epoch), 0) != static_cast<ssize_t>(sizeof(epoch))) {
      std::random_device device;
      epoch = (uint64_t{device()} << 32) ^ device();
    }
  }
  return epoch;
}

SnapshotPublisher::SnapshotPublisher(uint64_t epoch, TombstoneLimits limits) : limits_(limits) {
  auto first = std::make_shared<NodeSnapshot>();
  first->epoch = epoch;
  latest_ = std::move(first);
  published_ = latest_;
}

NodeSnapshotPtr SnapshotPublisher::current() const {
  std::lock_guard<std::mutex> lock(published_mutex_);
  return published_;
}

bool SnapshotPublisher::publish(std::vector<UnitView> units, ClockMapping clock,
                                const crash::CrashIndex* crashes) {
  const NodeSnapshot& previous = *latest_;
  std::unordered_map<std::string_view, const UnitEntry*> before;
  before.reserve(previous.units.size());
  for (const UnitEntry& entry : previous.units) {
    before.emplace(entry.view.name, &entry);
  }

  auto next = std::make_shared<NodeSnapshot>();
  next->epoch = previous.epoch;
  next->oldest_diffable = previous.oldest_diffable;
  next->clock = clock;
  const uint64_t revision = previous.revision + 1;
  bool changed = false;

  next->units.reserve(units.size());
  for (UnitView& view : units) {
    auto it = before.find(view.name);
    uint64_t unit_revision = revision;
    if (it != before.end()) {
      if (it->second->view == view) {
        unit_revision = it->second->revision;  // unchanged: keeps the revision it had.
      }
      before.erase(it);
    }
    changed = changed || unit_revision == revision;
    next->units.push_back(UnitEntry{std::move(view), unit_revision});
  }

  // A name that is back supersedes its tombstone: the caller gets the unit as a replacement.
  std::unordered_set<std::string_view> present;
  present.reserve(next->units.size());
  for (const UnitEntry& entry : next->units) {
    present.insert(entry.view.name);
  }
  next->tombstones.reserve(previous.tombstones.size() + before.size());
  for (const Tombstone& tombstone : previous.tombstones) {
    if (present.count(tombstone.name) == 0) {
      next->tombstones.push_back(tombstone);
    }
  }
  // What is left in `before` is gone; keep the previous order for the new tombstones.
  for (const UnitEntry& entry : previous.units) {
    if (before.count(entry.view.name) > 0) {
      next->tombstones.push_back(Tombstone{entry.view.name, revision, clock.mono});
      changed = true;
    }
  }

  bool crashes_refreshed = false;
  if (crashes != nullptr) {
    changed =
        nextCrashState(previous.crashes, *crashes, revision, clock.mono, next->crashes) || changed;
    crashes_refreshed =
        !previous.crashes.enabled || crashes->version != previous.crashes.index_version;
  } else {
    next->crashes = previous.crashes;
  }

  bool pruned = pruneTombstones(next->tombstones, next->oldest_diffable, limits_, clock.mono);
  pruned = pruneTombstones(next->crashes.tombstones, next->oldest_diffable, limits_, clock.mono) ||
           pruned;
  if (!changed && !pruned && !crashes_refreshed) {
    return false;
  }
  next->revision = changed ? revision : previous.revision;
  latest_ = std::move(next);
  NodeSnapshotPtr replaced;  // the old snapshot is released outside the lock.
  {
    std::lock_guard<std::mutex> lock(published_mutex_);
    replaced = std::exchange(published_, latest_);
  }
  return true;
}

}  // namespace vigie
