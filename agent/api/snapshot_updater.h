#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "agent/api/event_sink.h"
#include "agent/api/snapshot_publisher.h"
#include "agent/crash/crash_index.h"
#include "agent/supervisor/forwarding_observer.h"
#include "agent/supervisor/supervisor.h"
#include "agent/supervisor/unit.h"
#include "vigie/dispatcher.h"
#include "vigie/v1/agent.pb.h"

namespace vigie {

// Keeps the published snapshot up to date with the supervisor. It sits between the supervisor
// and the daemon's observer, passes every unit event on unchanged, and schedules one publish
// through post() for whatever happened in the current loop turn: a burst of events (an exit,
// its restart, three state changes) makes one snapshot, built once the burst is over.
//
// With an event sink, it also turns the unit events into the API's events (v1::Event), keeps
// them until the publish, stamps each with the version of that snapshot (the first one that
// includes the change), and hands them to the sink.
//
// With crash tracking, each CrashIndex the crash tracker publishes requests a publish too: the
// snapshot carries the incidents, and the sink gets the crash events (opened, completed).
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
  // Listens to `crashes` (on the loop thread) from now on; it must outlive this object's use.
  void trackCrashes(crash::CrashIndexPublisher& crashes);
  // Null: no events are built.
  void setEventSink(ApiEventSink* sink) { sink_ = sink; }
  // Schedules a publish at the end of this loop turn (once, however often it is asked).
  void requestPublish();
  // Builds the views and publishes now; the events gathered so far go to the sink.
  void publishNow();
  // An agent-wide event (a config reload): stamped and sent with the next publish, which this
  // requests.
  void addEvent(v1::Event event);

  void onStateChanged(const Unit& unit, UnitState from, UnitState to) override;
  void onInstanceStarted(const Unit& unit, const InstanceRecord& instance) override;
  void onInstanceEnded(const Unit& unit, const InstanceRecord& instance,
                       const RestartDecision& decision, bool stopping) override;

  // Every unit event may change what the API shows.
  void afterEvent(const Unit& /*unit*/) override { requestPublish(); }

 private:
  Dispatcher& dispatcher_;
  SnapshotPublisher& publisher_;
  const Supervisor* supervisor_ = nullptr;
  const crash::CrashIndexPublisher* crashes_ = nullptr;
  ApiEventSink* sink_ = nullptr;
  bool pending_ = false;
  std::vector<v1::Event> events_;  // of this turn, not yet stamped.
  // The next start an exit's decision scheduled: the state change that follows it (to
  // backing-off or failed) comes before the unit arms its timer, so it is taken from here.
  const Unit* scheduled_unit_ = nullptr;
  std::optional<WallTime> scheduled_start_;
  // Posted work may outlive this object if the loop is torn down first: it checks this flag.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace vigie
