#pragma once

#include "agent/supervisor/unit.h"

namespace vigie::testing {

// An observer for tests that only need the supervisor to run.
class NullObserver final : public UnitObserver {
 public:
  void onStateChanged(const Unit&, UnitState, UnitState) override {}
  void onInstanceStarted(const Unit&, const InstanceRecord&) override {}
  void onSpawnFailed(const Unit&, const InstanceRecord&) override {}
  void onInstanceEnded(const Unit&, const InstanceRecord&, const RestartDecision&, bool) override {}
};

}  // namespace vigie::testing
