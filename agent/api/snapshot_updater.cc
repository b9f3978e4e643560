#include "agent/api/snapshot_updater.h"

#include "agent/api/unit_view.h"

namespace vigie {

SnapshotUpdater::SnapshotUpdater(UnitObserver& next, Dispatcher& dispatcher,
                                 SnapshotPublisher& publisher)
    : ForwardingObserver(next), dispatcher_(dispatcher), publisher_(publisher) {}

SnapshotUpdater::~SnapshotUpdater() {
  *alive_ = false;
}

void SnapshotUpdater::requestPublish() {
  if (pending_) {
    return;
  }
  pending_ = true;
  dispatcher_.post([this, alive = alive_] {
    if (*alive) {
      publishNow();
    }
  });
}

void SnapshotUpdater::publishNow() {
  pending_ = false;
  if (supervisor_ == nullptr) {
    return;
  }
  publisher_.publish(buildUnitViews(*supervisor_),
                     ClockMapping{dispatcher_.monotonicNow(), dispatcher_.wallNow()});
}

}  // namespace vigie
