#pragma once

#include "agent/supervisor/unit.h"

namespace vigie {

// Turns unit events into the agent's log lines: one line per start, end and decision.
class UnitLogger final : public UnitObserver {
 public:
  void onStateChanged(const Unit& unit, UnitState from, UnitState to) override;
  void onInstanceStarted(const Unit& unit, const InstanceRecord& instance) override;
  void onSpawnFailed(const Unit& unit, const InstanceRecord& instance) override;
  void onInstanceEnded(const Unit& unit, const InstanceRecord& instance,
                       const RestartDecision& decision, bool stopping) override;
  void onHealthEvent(const Unit& unit, const InstanceRecord& instance, HealthEvent event) override;
};

}  // namespace vigie
