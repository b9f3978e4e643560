#include "agent/api/snapshot_updater.h"

#include "agent/api/unit_view.h"

namespace vigie {

SnapshotUpdater::SnapshotUpdater(UnitObserver& next, Dispatcher& dispatcher,
                                 SnapshotPublisher& publisher)
    : next_(next), dispatcher_(dispatcher), publisher_(publisher) {}

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

void SnapshotUpdater::onStateChanged(const Unit& unit, UnitState from, UnitState to) {
  next_.onStateChanged(unit, from, to);
  requestPublish();
}

void SnapshotUpdater::onInstanceStarted(const Unit& unit, const InstanceRecord& instance) {
  next_.onInstanceStarted(unit, instance);
  requestPublish();
}

void SnapshotUpdater::onSpawnFailed(const Unit& unit, const InstanceRecord& instance) {
  next_.onSpawnFailed(unit, instance);
  requestPublish();
}

void SnapshotUpdater::onInstanceEnded(const Unit& unit, const InstanceRecord& instance,
                                      const RestartDecision& decision, bool stopping) {
  next_.onInstanceEnded(unit, instance, decision, stopping);
  requestPublish();
}

}  // namespace vigie
