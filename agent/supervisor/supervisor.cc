#include "agent/supervisor/supervisor.h"

#include <algorithm>
#include <string_view>

namespace vigie {

Supervisor::Supervisor(Dispatcher& dispatcher, ProcessSpawner& spawner, UnitObserver& observer,
                       std::function<double()> jitter, std::vector<std::string> base_env,
                       OutputRouter* output_router, CgroupManager* cgroups, HealthServices health,
                       ContainerRuntimes* containers)
    : ForwardingObserver(observer),
      own_probes_(health.probes == nullptr
                      ? std::make_unique<LinuxProbeFactory>(dispatcher, spawner)
                      : nullptr),
      health_(std::move(health)),
      context_{dispatcher,    spawner, *this,    std::move(jitter), std::move(base_env),
               output_router, cgroups, &health_, containers} {
  if (health_.probes == nullptr) {
    health_.probes = own_probes_.get();
  }
}

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

Supervisor::ReloadSummary Supervisor::reload(const AgentConfig& config) {
  ReloadSummary summary;
  std::vector<std::unique_ptr<Unit>> next;
  for (const auto& spec : config.workloads) {
    auto it = std::find_if(units_.begin(), units_.end(),
                           [&](const auto& unit) { return unit && unit->name() == spec.name; });
    if (it == units_.end()) {
      next.push_back(std::make_unique<Unit>(context_, spec));
      next.back()->start();
      summary.added.push_back(spec.name);
      continue;
    }
    std::unique_ptr<Unit> unit = std::move(*it);
    switch (unit->reconfigure(spec)) {
      case Unit::Reconfigured::kUnchanged:
        summary.unchanged.push_back(spec.name);
        break;
      case Unit::Reconfigured::kUpdatedInPlace:
        summary.updated.push_back(spec.name);
        break;
      case Unit::Reconfigured::kRestarted:
      case Unit::Reconfigured::kReplacedWhileStopped:
        summary.restarted.push_back(spec.name);
        break;
    }
    next.push_back(std::move(unit));
  }
  for (auto& unit : units_) {
    if (unit) {
      summary.removed.push_back(unit->name());
      retiring_.push_back(std::move(unit));
      retiring_.back()->stop();
    }
  }
  units_ = std::move(next);
  retireSettledUnits();
  return summary;
}

std::string Supervisor::ReloadSummary::describe() const {
  std::string text;
  auto add = [&](size_t count, const char* what) {
    if (count == 0) {
      return;
    }
    if (!text.empty()) {
      text += ", ";
    }
    text += std::to_string(count) + " " + what;
  };
  add(added.size(), "added");
  add(removed.size(), "removed");
  add(restarted.size(), "restarted");
  add(updated.size(), "updated in place");
  add(unchanged.size(), "unchanged");
  return text.empty() ? "no units" : text;
}

void Supervisor::retireSettledUnits() {
  std::erase_if(retiring_, [](const auto& unit) { return unit->settled(); });
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
  retireSettledUnits();
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
  if (!retiring_.empty()) {
    return;
  }
  auto done = std::move(on_all_stopped_);
  on_all_stopped_ = nullptr;
  done();
}

void Supervisor::onStateChanged(const Unit& unit, UnitState from, UnitState to) {
  ForwardingObserver::onStateChanged(unit, from, to);
  if (unit.settled() && !retiring_.empty()) {
    // Not from inside the unit's own call stack: it is still running its transition.
    context_.dispatcher.post([this] {
      retireSettledUnits();
      checkAllStopped();
    });
  }
  checkAllStopped();
}

}  // namespace vigie
