#include "agent/notify/status_observer.h"

namespace vigie {

UnitCounts countUnits(const Supervisor& supervisor) {
  UnitCounts counts;
  for (const auto& unit : supervisor.units()) {
    // Mid-reload the list has moved-from slots, and state changes are reported from there.
    if (unit) {
      counts.add(unit->state());
    }
  }
  return counts;
}

StatusObserver::StatusObserver(UnitObserver& next, SystemdNotifier& notifier)
    : ForwardingObserver(next), notifier_(notifier) {}

std::string StatusObserver::summary() const {
  return formatStatusSummary(supervisor_ != nullptr ? countUnits(*supervisor_) : UnitCounts{});
}

void StatusObserver::refresh() {
  // Before READY=1 the notifier drops texts anyway: skip the counting.
  if (supervisor_ != nullptr && notifier_.isReady()) {
    notifier_.status(summary());
  }
}

void StatusObserver::onStateChanged(const Unit& unit, UnitState from, UnitState to) {
  ForwardingObserver::onStateChanged(unit, from, to);
  refresh();
}

}  // namespace vigie
