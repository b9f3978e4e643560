#pragma once

#include <memory>

#include "agent/api/snapshot_publisher.h"
#include "agent/supervisor/forwarding_observer.h"
#include "agent/supervisor/supervisor.h"
#include "agent/supervisor/unit.h"
#include "vigie/dispatcher.h"

namespace vigie {

// Keeps the published snapshot up to date with the supervisor. It sits between the supervisor
// and the daemon's observer, passes every unit event on unchanged, and schedules one publish
// through post() for whatever happened in the current loop turn: a burst of events (an exit,
// its restart, three state changes) makes one snapshot, built once the burst is over.
//
// Changes that come with no unit event (the first load, a reload that adds or drops units) need
// a requestPublish() from the caller. Loop thread only.
class SnapshotUpdater final : public ForwardingObserver {
 public:
  SnapshotUpdater(UnitObserver& next, Dispatcher& dispatcher, SnapshotPublisher& publisher);
  SnapshotUpdater(const SnapshotUpdater&) = delete;
  SnapshotUpdater& operator=(const SnapshotUpdater&) = delete;
  ~SnapshotUpdater() override;

  // The supervisor takes its observer in its constructor, so it is given here afterwards.
  void track(const Supervisor& supervisor) { supervisor_ = &supervisor; }
  // Schedules a publish at the end of this loop turn (once, however often it is asked).
  void requestPublish();
  // Builds the views and publishes now.
  void publishNow();

  // Every unit event may change what the API shows.
  void afterEvent(const Unit& /*unit*/) override { requestPublish(); }

 private:
  Dispatcher& dispatcher_;
  SnapshotPublisher& publisher_;
  const Supervisor* supervisor_ = nullptr;
  bool pending_ = false;
  // Posted work may outlive this object if the loop is torn down first: it checks this flag.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace vigie
