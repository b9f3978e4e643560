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
  config.notify = spec.notify;
  config.watchdog = spec.watchdog;
  config.liveness = spec.liveness;
  config.container = spec.container;
  return config;
}

ProbeView buildProbeView(const LivenessStatus& status) {
  ProbeView view;
  view.state = status.state;
  view.consecutive_failures = status.consecutive_failures;
  view.failure_threshold = status.failure_threshold;
  view.failures = status.failures;
  if (status.last) {
    view.last_status = status.last->status;
  }
  if (status.last_failure) {
    view.last_failure = status.last_failure->status;
    view.last_failure_output = status.last_failure->output;
    view.last_failure_time = status.last_failure->at_wall;
  }
  return view;
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
  // An end for a failed health check is a failure, whatever the status.
  view.success = classifyEnd(spec, status, instance.health.end_reason) == ExitKind::kSuccess;
  view.description = status.describe();
  if (instance.health.end_reason != EndReason::kNone) {
    view.description += " (" + std::string(endReasonName(instance.health.end_reason)) + ")";
  }
  view.end_reason = instance.health.end_reason;
  view.end_detail = instance.health.end_detail;
  if (instance.oom_killed) {
    view.description += " (oom-killed)";
  }
  view.oom_killed = instance.oom_killed;
  view.cgroup = instance.cgroup_stats;
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
  view.ready = instance.health.ready && instance.pid > 0;
  view.notify_status = instance.health.notify_status;
  if (instance.health.liveness) {
    view.liveness = buildProbeView(*instance.health.liveness);
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
  view.ready = unit.ready();
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
