#include "agent/supervisor/supervisor.h"

#include <string_view>

namespace vigie {

Supervisor::Supervisor(Dispatcher& dispatcher, ProcessSpawner& spawner, UnitObserver& observer,
                       std::function<double()> jitter, std::vector<std::string> base_env)
    : observer_(observer),
      context_{dispatcher, spawner, *this, std::move(jitter), std::move(base_env)} {}

std::vector<std::string> Supervisor::workloadBaseEnv(char** environ_entries) {
  std::vector<std::string> env;
  for (char** entry = environ_entries; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (text.starts_with("NOTIFY_SOCKET=") || text.starts_with("WATCHDOG_") ||
        text.starts_with("LISTEN_")) {
      continue;
    }
    env.emplace_back(text);
  }
  return env;
}

void Supervisor::load(const AgentConfig& config) {
  for (const auto& spec : config.workloads) {
    units_.push_back(std::make_unique<Unit>(context_, spec));
  }
}

void Supervisor::startAll() {
  for (auto& unit : units_) {
    unit->start();
  }
}

void Supervisor::stopAll(std::function<void()> on_all_stopped) {
  on_all_stopped_ = std::move(on_all_stopped);
  for (auto& unit : units_) {
    unit->stop();
  }
  checkAllStopped();
}

Unit* Supervisor::find(const std::string& name) {
  for (auto& unit : units_) {
    if (unit->name() == name) {
      return unit.get();
    }
  }
  return nullptr;
}

void Supervisor::checkAllStopped() {
  if (!on_all_stopped_) {
    return;
  }
  for (const auto& unit : units_) {
    if (!unit->settled()) {
      return;
    }
  }
  auto done = std::move(on_all_stopped_);
  on_all_stopped_ = nullptr;
  done();
}

void Supervisor::onStateChanged(const Unit& unit, UnitState from, UnitState to) {
  observer_.onStateChanged(unit, from, to);
  checkAllStopped();
}

void Supervisor::onInstanceStarted(const Unit& unit, const InstanceRecord& instance) {
  observer_.onInstanceStarted(unit, instance);
}

void Supervisor::onSpawnFailed(const Unit& unit, const InstanceRecord& instance) {
  observer_.onSpawnFailed(unit, instance);
}

void Supervisor::onInstanceEnded(const Unit& unit, const InstanceRecord& instance,
                                 const RestartDecision& decision, bool stopping) {
  observer_.onInstanceEnded(unit, instance, decision, stopping);
}

}  // namespace vigie
