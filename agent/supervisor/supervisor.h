#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/supervisor/unit.h"
#include "vigie/config.h"

namespace vigie {

// Owns every unit. Lives on the loop thread, like everything it owns.
class Supervisor final : public UnitObserver {
 public:
  Supervisor(Dispatcher& dispatcher, ProcessSpawner& spawner, UnitObserver& observer,
             std::function<double()> jitter, std::vector<std::string> base_env);

  // Creates the units of `config`. Reload (diffing against the running set) builds on this.
  void load(const AgentConfig& config);
  void startAll();
  // Stops every unit in parallel; `on_all_stopped` runs once nothing is left running.
  void stopAll(std::function<void()> on_all_stopped);

  Unit* find(const std::string& name);
  const std::vector<std::unique_ptr<Unit>>& units() const { return units_; }

  // The agent's environment, minus what belongs to the agent's own supervisor (systemd's
  // NOTIFY_SOCKET, WATCHDOG_*, LISTEN_*): a workload must not answer systemd in our name.
  static std::vector<std::string> workloadBaseEnv(char** environ_entries);

  void onStateChanged(const Unit& unit, UnitState from, UnitState to) override;
  void onInstanceStarted(const Unit& unit, const InstanceRecord& instance) override;
  void onSpawnFailed(const Unit& unit, const InstanceRecord& instance) override;
  void onInstanceEnded(const Unit& unit, const InstanceRecord& instance,
                       const RestartDecision& decision, bool stopping) override;

 private:
  void checkAllStopped();

  UnitObserver& observer_;
  UnitContext context_;
  std::vector<std::unique_ptr<Unit>> units_;
  std::function<void()> on_all_stopped_;
};

}  // namespace vigie
