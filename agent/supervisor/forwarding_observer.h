#pragma once

#include "agent/supervisor/unit.h"

namespace vigie {

// An observer in a chain: passes every unit event on to `next`, then calls afterEvent(). A link
// overrides afterEvent() to act on any event, or one on*() (calling the base) for a specific one.
class ForwardingObserver : public UnitObserver {
 public:
  explicit ForwardingObserver(UnitObserver& next) : next_(next) {}

  void onStateChanged(const Unit& unit, UnitState from, UnitState to) override {
    next_.onStateChanged(unit, from, to);
    afterEvent(unit);
  }
  void onInstanceStarted(const Unit& unit, const InstanceRecord& instance) override {
    next_.onInstanceStarted(unit, instance);
    afterEvent(unit);
  }
  void onSpawnFailed(const Unit& unit, const InstanceRecord& instance) override {
    next_.onSpawnFailed(unit, instance);
    afterEvent(unit);
  }
  void onInstanceEnded(const Unit& unit, const InstanceRecord& instance,
                       const RestartDecision& decision, bool stopping) override {
    next_.onInstanceEnded(unit, instance, decision, stopping);
    afterEvent(unit);
  }
  void onHealthEvent(const Unit& unit, const InstanceRecord& instance, HealthEvent event) override {
    next_.onHealthEvent(unit, instance, event);
    afterEvent(unit);
  }

 protected:
  virtual void afterEvent(const Unit& /*unit*/) {}

 private:
  UnitObserver& next_;
};

}  // namespace vigie
