#include "agent/api/snapshot_updater.h"

#include <utility>

#include "agent/api/api_events.h"
#include "agent/api/crash_state.h"
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

void SnapshotUpdater::trackCrashes(crash::CrashIndexPublisher& crashes) {
  crashes_ = &crashes;
  crashes.addListener([this, alive = alive_] {
    if (*alive) {
      requestPublish();
    }
  });
}

void SnapshotUpdater::publishNow() {
  pending_ = false;
  const NodeSnapshotPtr before = publisher_.current();
  if (supervisor_ != nullptr) {
    const crash::CrashIndexPtr crashes = crashes_ != nullptr ? crashes_->current() : nullptr;
    publisher_.publish(buildUnitViews(*supervisor_),
                       ClockMapping{dispatcher_.monotonicNow(), dispatcher_.wallNow()},
                       crashes.get());
  }
  if (sink_ != nullptr && crashes_ != nullptr) {
    // After the unit events of this turn: an incident opens once its instance has ended.
    for (v1::Event& event :
         crashEvents(before->crashes, publisher_.latest().crashes, dispatcher_.wallNow())) {
      events_.push_back(std::move(event));
    }
  }
  if (events_.empty()) {
    return;
  }
  // Taken out first: the sink may act on the units (a restart waiting for its stop), which adds
  // events for the next publish.
  std::vector<v1::Event> events = std::exchange(events_, {});
  const NodeSnapshot& published = publisher_.latest();
  for (v1::Event& event : events) {
    event.mutable_version()->set_epoch(published.epoch);
    event.mutable_version()->set_revision(published.revision);
  }
  if (sink_ != nullptr) {
    sink_->publishEvents(events);
  }
}

void SnapshotUpdater::addEvent(v1::Event event) {
  if (sink_ != nullptr) {
    events_.push_back(std::move(event));
  }
  requestPublish();
}

void SnapshotUpdater::onStateChanged(const Unit& unit, UnitState from, UnitState to) {
  if (sink_ != nullptr) {
    std::optional<WallTime> next_start;
    if (&unit == scheduled_unit_ && (to == UnitState::kBackingOff || to == UnitState::kFailed)) {
      next_start = scheduled_start_;
    }
    events_.push_back(
        unitStateChangedEvent(unit.name(), from, to, next_start, dispatcher_.wallNow()));
  }
  scheduled_unit_ = nullptr;
  scheduled_start_.reset();
  ForwardingObserver::onStateChanged(unit, from, to);
}

void SnapshotUpdater::onInstanceStarted(const Unit& unit, const InstanceRecord& instance) {
  if (sink_ != nullptr) {
    events_.push_back(instanceStartedEvent(unit, instance, dispatcher_.wallNow()));
  }
  ForwardingObserver::onInstanceStarted(unit, instance);
}

void SnapshotUpdater::onInstanceEnded(const Unit& unit, const InstanceRecord& instance,
                                      const RestartDecision& decision, bool stopping) {
  if (sink_ != nullptr) {
    const WallTime now = dispatcher_.wallNow();
    events_.push_back(instanceExitedEvent(unit, instance, decision, stopping, now));
    const bool scheduled =
        !stopping && (decision.action == RestartDecision::Action::kRestartLater ||
                      decision.action == RestartDecision::Action::kFail);
    scheduled_unit_ = scheduled ? &unit : nullptr;
    scheduled_start_ = scheduled ? std::optional<WallTime>(now + decision.delay) : std::nullopt;
  }
  ForwardingObserver::onInstanceEnded(unit, instance, decision, stopping);
}

}  // namespace vigie
