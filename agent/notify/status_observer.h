#pragma once

#include <string>

#include "agent/notify/status_summary.h"
#include "agent/notify/systemd_notifier.h"
#include "agent/supervisor/forwarding_observer.h"
#include "agent/supervisor/supervisor.h"
#include "agent/supervisor/unit.h"

namespace vigie {

// Counts the units of `supervisor` by state.
UnitCounts countUnits(const Supervisor& supervisor);

// Sits between the supervisor and the daemon's observer (the logger): passes every unit event
// on unchanged, and after each state change hands the new summary to the notifier, which
// coalesces it. This keeps STATUS= out of both the logger and the supervisor.
//
// The supervisor takes its observer in its constructor, so it is given to track() afterwards;
// until then there is nothing to summarize.
class StatusObserver final : public ForwardingObserver {
 public:
  StatusObserver(UnitObserver& next, SystemdNotifier& notifier);

  void track(const Supervisor& supervisor) { supervisor_ = &supervisor; }
  // The summary of the tracked units ("no units" before track()).
  std::string summary() const;
  // Hands the current summary to the notifier. The daemon calls it after a reload, which can
  // drop stopped units without any state change.
  void refresh();

  void onStateChanged(const Unit& unit, UnitState from, UnitState to) override;

 private:
  SystemdNotifier& notifier_;
  const Supervisor* supervisor_ = nullptr;
};

}  // namespace vigie
