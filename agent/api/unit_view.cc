#include "agent/api/unit_view.h"

#include <sys/time.h>

#include "vigie/restart_policy.h"

namespace vigie {
namespace {

Duration fromTimeval(const timeval& tv) {
  return std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
}

ExitView::Kind exitKind(ExitStatus::Kind kind) {
  switch (kind) {
    case ExitStatus::Kind::kExited:
      return ExitView::Kind::kExited;
    case ExitStatus::Kind::kKilled:
      return ExitView::Kind::kKilled;
    case ExitStatus::Kind::kDumped:
      return ExitView::Kind::kDumped;
    case ExitStatus::Kind::kLost:
      return ExitView::Kind::kLost;
  }
  return ExitView::Kind::kLost;
}

UnitConfigView buildConfigView(const WorkloadSpec& spec) {
  UnitConfigView config;
  config.exec = spec.exec;
  config.cwd = spec.cwd;
  config.user = spec.user;
  config.group = spec.group;
  config.restart_policy = spec.restart.policy;
  config.file = spec.location.file;
  config.line = spec.location.line;
  config.column = spec.location.column;
  return config;
}

}  // namespace

ExitView buildExitView(const WorkloadSpec& spec, const InstanceRecord& instance) {
  ExitView view;
  if (!instance.exit) {
    view.kind = ExitView::Kind::kSpawnFailed;
    view.spawn_error = instance.spawn_error;
    view.description = "failed to start: " + instance.spawn_error;
    view.at = instance.started_wall;
    return view;
  }
  const ExitStatus& status = *instance.exit;
  view.kind = exitKind(status.kind);
  view.code = status.code;
  view.signal = status.signal;
  view.success = classifyExit(spec, status) == ExitKind::kSuccess;
  view.description = status.describe();
  view.at = status.at_wall;
  if (instance.started_mono != MonoTime{} && status.at_mono >= instance.started_mono) {
    view.runtime = status.at_mono - instance.started_mono;
  }
  view.user_cpu = fromTimeval(status.usage.ru_utime);
  view.system_cpu = fromTimeval(status.usage.ru_stime);
  view.max_rss_bytes = status.usage.ru_maxrss > 0
                           ? static_cast<uint64_t>(status.usage.ru_maxrss) * 1024
                           : 0;  // ru_maxrss is in KiB.
  return view;
}

InstanceView buildInstanceView(const WorkloadSpec& spec, const InstanceRecord& instance) {
  InstanceView view;
  view.id = instance.id;
  view.pid = instance.pid;
  view.started = instance.started_wall;
  if (instance.exit || !instance.spawn_error.empty()) {
    view.exit = buildExitView(spec, instance);
  }
  return view;
}

UnitView buildUnitView(const Unit& unit) {
  UnitView view;
  view.name = unit.name();
  view.state = unit.state();
  const InstanceRecord* current = unit.currentInstance();
  view.pid = current != nullptr && current->running() ? current->pid : 0;
  view.next_start = unit.nextStartAt();
  view.stopped_by_operator = unit.stoppedByOperator();
  view.restart_count = unit.restartCount();
  view.total_restarts = unit.totalRestarts();
  view.failed_starts = unit.failedStarts();
  view.instances.reserve(unit.instances().size());
  for (const auto& instance : unit.instances()) {
    view.instances.push_back(buildInstanceView(unit.spec(), *instance));
  }
  view.config = buildConfigView(unit.spec());
  return view;
}

std::vector<UnitView> buildUnitViews(const Supervisor& supervisor) {
  std::vector<UnitView> views;
  views.reserve(supervisor.units().size());
  for (const auto& unit : supervisor.units()) {
    views.push_back(buildUnitView(*unit));
  }
  return views;
}

}  // namespace vigie
