#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/health/health_monitor.h"
#include "agent/health/health_services.h"
#include "agent/runtime/container_runtimes.h"
#include "agent/supervisor/instance.h"
#include "vigie/cgroup.h"
#include "vigie/config.h"
#include "vigie/dispatcher.h"
#include "vigie/health.h"
#include "vigie/output.h"
#include "vigie/process.h"
#include "vigie/restart_policy.h"
#include "vigie/unit_lifecycle.h"

namespace vigie {

class Unit;

// Told about everything a unit does; the daemon logs it, the supervisor tracks stop-all.
class UnitObserver {
 public:
  virtual ~UnitObserver() = default;
  virtual void onStateChanged(const Unit& unit, UnitState from, UnitState to) = 0;
  virtual void onInstanceStarted(const Unit& unit, const InstanceRecord& instance) = 0;
  virtual void onSpawnFailed(const Unit& unit, const InstanceRecord& instance) = 0;
  // Before the decision is acted on, so that the end is logged before the next start.
  virtual void onInstanceEnded(const Unit& unit, const InstanceRecord& instance,
                               const RestartDecision& decision, bool stopping) = 0;
  // The current instance's health changed (instance.health has the news). Before the unit acts
  // on it: a failed check is logged before the instance is ended.
  virtual void onHealthEvent(const Unit& /*unit*/, const InstanceRecord& /*instance*/,
                             HealthEvent /*event*/) {}
};

// What every unit shares: the loop, the spawner, randomness, and the environment to start from.
struct UnitContext {
  Dispatcher& dispatcher;
  ProcessSpawner& spawner;
  UnitObserver& observer;
  std::function<double()> jitter;           // uniform in [0, 1)
  std::vector<std::string> base_env;        // the agent's environment minus systemd's variables.
  OutputRouter* output_router = nullptr;    // log files and journald; null: tails only.
  CgroupManager* cgroups = nullptr;         // units' cgroups; null: none (tests, in-process).
  HealthServices* health = nullptr;         // probes and sd_notify; null: units have no checks.
  ContainerRuntimes* containers = nullptr;  // container units' runtimes; null: they cannot start.
};

// One supervised workload: its spec, its life-cycle state (driven by unitTransition's table),
// its restart policy counters and its recent instances.
class Unit {
 public:
  Unit(UnitContext& context, WorkloadSpec spec);
  Unit(const Unit&) = delete;
  Unit& operator=(const Unit&) = delete;
  ~Unit();

  void start();  // forgets the restart history: an operator's start is a fresh start.
  void stop();   // stop.signal to the group, SIGKILL after stop.timeout.

  // What a reload did to a unit that stays in the config.
  enum class Reconfigured { kUnchanged, kUpdatedInPlace, kRestarted, kReplacedWhileStopped };
  // Takes a new spec. A changed process definition (processDefinitionDiffers) stops the current
  // instance and starts one with the new spec; other changes apply in place. A unit an operator
  // stopped stays stopped, with the new spec.
  Reconfigured reconfigure(WorkloadSpec spec);
  bool stoppedByOperator() const { return stopped_by_operator_; }

  const std::string& name() const { return spec_.name; }
  const WorkloadSpec& spec() const { return spec_; }
  UnitState state() const { return state_; }
  uint32_t restartCount() const { return tracker_.restartCount(); }
  uint64_t totalRestarts() const { return total_restarts_; }
  uint64_t failedStarts() const { return failed_starts_; }
  std::optional<MonoTime> nextStartAt() const;
  // Oldest first; the newest is the current instance while one runs.
  const std::deque<std::unique_ptr<InstanceRecord>>& instances() const { return instances_; }
  const InstanceRecord* currentInstance() const { return current_; }
  bool settled() const;  // stopped or exited: nothing running and nothing scheduled.
  // The current instance runs and is ready (READY=1 with notify: true; else once started).
  bool ready() const;
  const UnitCgroup* cgroup() const { return cgroup_.get(); }
  // Why the unit's cgroup could not be set up as its spec says ("" when fine): its starts fail.
  const std::string& cgroupError() const { return cgroup_error_; }

 private:
  void handle(UnitEvent event);
  void perform(UnitAction action);
  void spawnInstance();
  void onInstanceRunning(InstanceRecord& instance);
  void drainOutput(InstanceRecord& instance);
  void onInstanceExit(InstanceRecord& instance, const ExitStatus& status);
  void onRuntimeFailed(InstanceRecord& instance, const ExitStatus& status);
  void onEnded(InstanceRecord& instance, ExitKind kind, Duration uptime);
  InstanceRecord& pushInstance();
  void prepareSpawnSpec();
  void openOutput();
  OutputReader::Forward forwardTo(OutputStream stream, uint64_t instance_id);
  void replaceSpec(WorkloadSpec spec);
  void setUpCgroup(const ResourcesSpec& resources);
  void killCgroup();
  void onCgroupEmpty();
  // Health (unit_health.cc).
  std::string addHealthEnv(SpawnSpec& spawn_spec) const;  // "" or why it cannot be done.
  void startHealth(InstanceRecord& instance);
  void stopHealth();
  void applyLivenessInPlace();
  void onHealthEvent(InstanceRecord& instance, HealthEvent event);
  void endForHealth(InstanceRecord& instance, EndReason reason, std::string detail);

  UnitContext& context_;
  WorkloadSpec spec_;
  SpawnSpec spawn_spec_;          // prepared once: nothing is computed between exit and restart.
  std::string spawn_spec_error_;  // why spawn_spec_ could not be prepared (unknown user...).
  UnitState state_ = UnitState::kStopped;
  RestartTracker tracker_;
  Duration pending_delay_{};
  std::unique_ptr<UnitOutput> output_;  // files and journald, across instances.
  TimerPtr timer_;                      // backoff, slow retry or stop timeout, as the state says.
  std::deque<std::unique_ptr<InstanceRecord>> instances_;
  InstanceRecord* current_ = nullptr;
  uint64_t next_instance_id_ = 1;
  uint64_t total_restarts_ = 0;
  uint64_t failed_starts_ = 0;
  bool stopped_by_operator_ = false;
  std::optional<WorkloadSpec> pending_spec_;  // applied, then started, once stopped.
  UnitCgroupPtr cgroup_;                      // kept across restarts and reloads.
  std::string cgroup_error_;
  bool spawn_after_kill_ = false;  // a start waits for the previous instance's leftovers to go.
  bool stop_after_kill_ = false;   // a stop completes once the cgroup is empty.
  // The current instance's health checks, and the SIGKILL that follows a health check's end
  // signal after stop.timeout. Declared last: they refer to the instance records.
  std::unique_ptr<HealthMonitor> health_;
  TimerPtr health_kill_timer_;
};

}  // namespace vigie
