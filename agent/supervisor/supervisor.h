#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/health/health_services.h"
#include "agent/health/linux_probe_factory.h"
#include "agent/supervisor/forwarding_observer.h"
#include "agent/supervisor/unit.h"
#include "vigie/config.h"

namespace vigie {

// Owns every unit. Lives on the loop thread, like everything it owns.
class Supervisor final : public ForwardingObserver {
 public:
  // `output_router` (optional) receives the units' output for log files and journald;
  // `cgroups` (optional) gives each unit its cgroup. Both must outlive the supervisor.
  // `health`: the sd_notify router and socket path, and the probe factory (when none is given,
  // the supervisor runs real probes through `spawner`). `containers` (optional) prepares
  // container units' bundles; `spawner` must then start SpawnSpec::container (ContainerSpawner).
  Supervisor(Dispatcher& dispatcher, ProcessSpawner& spawner, UnitObserver& observer,
             std::function<double()> jitter, std::vector<std::string> base_env,
             OutputRouter* output_router = nullptr, CgroupManager* cgroups = nullptr,
             HealthServices health = {}, ContainerRuntimes* containers = nullptr);

  // Creates the units of `config` (the first load).
  void load(const AgentConfig& config);

  // What a reload did, by unit name.
  struct ReloadSummary {
    std::vector<std::string> added, removed, restarted, updated, unchanged;
    std::string describe() const;  // "1 added, 1 restarted, 2 unchanged"
  };
  // Applies a new, already validated config to the running set: new units start, removed ones
  // stop (and go once stopped), changed ones are reconfigured (Unit::reconfigure). Units keep
  // running untouched when their spec did not change.
  ReloadSummary reload(const AgentConfig& config);
  void startAll();
  // Stops every unit in parallel; `on_all_stopped` runs once nothing is left running.
  void stopAll(std::function<void()> on_all_stopped);

  Unit* find(const std::string& name);
  const std::vector<std::unique_ptr<Unit>>& units() const { return units_; }
  size_t retiringCount() const { return retiring_.size(); }

  // The agent's environment, minus what belongs to the agent's own supervisor (systemd's
  // NOTIFY_SOCKET, WATCHDOG_*, LISTEN_*): a workload must not answer systemd in our name.
  static std::vector<std::string> workloadBaseEnv(char** environ_entries);

  void onStateChanged(const Unit& unit, UnitState from, UnitState to) override;

 private:
  void checkAllStopped();

  // Declared before the units, which use them: destroyed after them.
  std::unique_ptr<LinuxProbeFactory> own_probes_;
  HealthServices health_;
  UnitContext context_;
  void retireSettledUnits();

  std::vector<std::unique_ptr<Unit>> units_;
  std::vector<std::unique_ptr<Unit>> retiring_;  // removed by a reload, still stopping.
  std::function<void()> on_all_stopped_;
};

}  // namespace vigie
