#include "agent/api/proto_convert.h"

#include <algorithm>
#include <chrono>

namespace vigie {
namespace {

using std::chrono::duration_cast;
using std::chrono::floor;
using std::chrono::nanoseconds;
using std::chrono::seconds;

void fillPressureLine(const PressureLineSample& line, v1::PressureLine* out) {
  out->set_avg10(static_cast<float>(line.avg10));
  out->set_avg60(static_cast<float>(line.avg60));
  out->set_avg300(static_cast<float>(line.avg300));
  *out->mutable_total() = toDuration(line.total);
}

void fillPressure(const PressureSample& pressure, v1::Pressure* out) {
  fillPressureLine(pressure.some, out->mutable_some());
  if (pressure.full) {
    fillPressureLine(*pressure.full, out->mutable_full());
  }
}

}  // namespace

google::protobuf::Timestamp toTimestamp(WallTime time) {
  const nanoseconds since_epoch = duration_cast<nanoseconds>(time.time_since_epoch());
  const seconds whole = floor<seconds>(since_epoch);
  google::protobuf::Timestamp out;
  out.set_seconds(whole.count());
  out.set_nanos(static_cast<int32_t>((since_epoch - whole).count()));
  return out;
}

google::protobuf::Duration toDuration(Duration duration) {
  const seconds whole = duration_cast<seconds>(duration);  // truncates toward zero
  google::protobuf::Duration out;
  out.set_seconds(whole.count());
  out.set_nanos(static_cast<int32_t>((duration - whole).count()));
  return out;
}

v1::UnitState toProto(UnitState state) {
  switch (state) {
    case UnitState::kStopped:
      return v1::UNIT_STATE_STOPPED;
    case UnitState::kStarting:
      return v1::UNIT_STATE_STARTING;
    case UnitState::kRunning:
      return v1::UNIT_STATE_RUNNING;
    case UnitState::kStopping:
      return v1::UNIT_STATE_STOPPING;
    case UnitState::kBackingOff:
      return v1::UNIT_STATE_BACKING_OFF;
    case UnitState::kFailed:
      return v1::UNIT_STATE_FAILED;
    case UnitState::kExited:
      return v1::UNIT_STATE_EXITED;
  }
  return v1::UNIT_STATE_UNSPECIFIED;
}

v1::ExitKind toProto(ExitView::Kind kind) {
  switch (kind) {
    case ExitView::Kind::kExited:
      return v1::EXIT_KIND_EXITED;
    case ExitView::Kind::kKilled:
      return v1::EXIT_KIND_KILLED;
    case ExitView::Kind::kDumped:
      return v1::EXIT_KIND_DUMPED;
    case ExitView::Kind::kLost:
      return v1::EXIT_KIND_LOST;
    case ExitView::Kind::kSpawnFailed:
      return v1::EXIT_KIND_SPAWN_FAILED;
  }
  return v1::EXIT_KIND_UNSPECIFIED;
}

v1::ProbeState toProto(ProbeState state) {
  switch (state) {
    case ProbeState::kPending:
      return v1::PROBE_STATE_PENDING;
    case ProbeState::kPassing:
      return v1::PROBE_STATE_PASSING;
    case ProbeState::kFailing:
      return v1::PROBE_STATE_FAILING;
  }
  return v1::PROBE_STATE_UNSPECIFIED;
}

v1::ProbeKind toProto(ProbeSpec::Kind kind) {
  switch (kind) {
    case ProbeSpec::Kind::kExec:
      return v1::PROBE_KIND_EXEC;
    case ProbeSpec::Kind::kHttp:
      return v1::PROBE_KIND_HTTP;
    case ProbeSpec::Kind::kTcp:
      return v1::PROBE_KIND_TCP;
  }
  return v1::PROBE_KIND_UNSPECIFIED;
}

v1::RestartPolicy toProto(RestartPolicyKind policy) {
  switch (policy) {
    case RestartPolicyKind::kAlways:
      return v1::RESTART_POLICY_ALWAYS;
    case RestartPolicyKind::kOnFailure:
      return v1::RESTART_POLICY_ON_FAILURE;
    case RestartPolicyKind::kNever:
      return v1::RESTART_POLICY_NEVER;
  }
  return v1::RESTART_POLICY_UNSPECIFIED;
}

void fillExit(const ExitView& exit, v1::ExitDetails* out) {
  out->set_kind(toProto(exit.kind));
  out->set_code(exit.code);
  out->set_signal(exit.signal);
  out->set_success(exit.success);
  out->set_spawn_error(exit.spawn_error);
  out->set_description(exit.description);
  *out->mutable_time() = toTimestamp(exit.at);
  if (exit.kind == ExitView::Kind::kSpawnFailed) {
    return;  // it never ran: no runtime, no usage.
  }
  *out->mutable_runtime() = toDuration(exit.runtime);
  v1::ResourceUsage* usage = out->mutable_usage();
  *usage->mutable_user_cpu() = toDuration(exit.user_cpu);
  *usage->mutable_system_cpu() = toDuration(exit.system_cpu);
  usage->set_max_rss_bytes(exit.max_rss_bytes);
  if (exit.oom_killed) {
    out->set_reason(v1::EXIT_REASON_OOM_KILLED);
  }
  if (exit.end_reason != EndReason::kNone) {
    out->set_reason(exit.end_reason == EndReason::kLiveness ? v1::EXIT_REASON_LIVENESS
                                                            : v1::EXIT_REASON_WATCHDOG);
    out->set_reason_detail(exit.end_detail);
  }
  if (exit.cgroup) {
    v1::CgroupUsage* cgroup = out->mutable_cgroup();
    if (exit.cgroup->memory_peak_bytes) {
      cgroup->set_memory_peak_bytes(*exit.cgroup->memory_peak_bytes);
    }
    if (exit.cgroup->cpu_time) {
      *cgroup->mutable_cpu_time() = toDuration(*exit.cgroup->cpu_time);
    }
    if (exit.cgroup->oom_kills) {
      cgroup->set_oom_kills(*exit.cgroup->oom_kills);
    }
  }
}

void fillInstance(const InstanceView& instance, v1::Instance* out) {
  out->set_id(instance.id);
  out->set_pid(instance.pid);
  *out->mutable_start_time() = toTimestamp(instance.started);
  if (instance.exit) {
    fillExit(*instance.exit, out->mutable_exit());
  }
  out->set_ready(instance.ready);
  out->set_notify_status(instance.notify_status);
  if (instance.liveness) {
    fillProbeStatus(*instance.liveness, out->mutable_liveness());
  }
}

void fillProbeStatus(const ProbeView& probe, v1::ProbeStatus* out) {
  out->set_state(toProto(probe.state));
  out->set_consecutive_failures(probe.consecutive_failures);
  out->set_failure_threshold(probe.failure_threshold);
  out->set_failures(probe.failures);
  out->set_last_status(probe.last_status);
  out->set_last_failure(probe.last_failure);
  out->set_last_failure_output(probe.last_failure_output);
  if (probe.last_failure_time) {
    *out->mutable_last_failure_time() = toTimestamp(*probe.last_failure_time);
  }
}

void fillUnit(const UnitEntry& unit, const ClockMapping& clock, size_t max_instances,
              v1::Unit* out) {
  const UnitView& view = unit.view;
  out->set_name(view.name);
  out->set_revision(unit.revision);
  out->set_state(toProto(view.state));
  out->set_pid(view.pid);
  if (view.next_start) {
    *out->mutable_next_start_time() = toTimestamp(clock.toWall(*view.next_start));
  }
  out->set_stopped_by_operator(view.stopped_by_operator);
  out->set_ready(view.ready);
  out->set_restart_count(view.restart_count);
  out->set_total_restarts(view.total_restarts);
  out->set_failed_starts(view.failed_starts);
  const size_t count = std::min(max_instances, view.instances.size());
  for (size_t i = view.instances.size() - count; i < view.instances.size(); ++i) {
    fillInstance(view.instances[i], out->add_instances());
  }
}

void fillUnitConfig(const UnitConfigView& config, v1::UnitConfig* out) {
  for (const std::string& arg : config.exec) {
    out->add_exec(arg);
  }
  out->set_cwd(config.cwd);
  out->set_user(config.user);
  out->set_group(config.group);
  out->set_restart_policy(toProto(config.restart_policy));
  v1::SourceLocation* source = out->mutable_source();
  source->set_file(config.file);
  source->set_line(static_cast<uint32_t>(std::max(config.line, 0)));
  source->set_column(static_cast<uint32_t>(std::max(config.column, 0)));
  out->set_notify(config.notify);
  if (config.watchdog) {
    *out->mutable_watchdog() = toDuration(*config.watchdog);
  }
  if (config.liveness) {
    fillLivenessProbe(*config.liveness, out->mutable_liveness());
  }
  if (config.container) {
    v1::ContainerConfig* container = out->mutable_container();
    container->set_runtime(config.container->runtime);
    container->set_rootfs(config.container->rootfs);
    container->set_bundle(config.container->bundle);
    for (const std::string& arg : config.container->args) {
      container->add_args(arg);
    }
    container->set_init(config.container->init);
    container->set_readonly(config.container->readonly);
    container->set_host_network(config.container->host_network);
  }
}

void fillLivenessProbe(const ProbeSpec& probe, v1::LivenessProbe* out) {
  out->set_kind(toProto(probe.kind));
  if (probe.kind == ProbeSpec::Kind::kExec) {
    for (const std::string& arg : probe.exec) {
      out->add_exec(arg);
    }
  } else {
    out->set_host(probe.host);
    out->set_port(probe.port);
    if (probe.kind == ProbeSpec::Kind::kHttp) {
      out->set_path(probe.path);
    }
  }
  *out->mutable_period() = toDuration(probe.period);
  *out->mutable_timeout() = toDuration(probe.timeout);
  out->set_failure_threshold(probe.failure_threshold);
  *out->mutable_initial_delay() = toDuration(probe.initial_delay);
}

void fillUsage(const UsageSample& usage, v1::NodeUsage* out) {
  if (usage.uptime) {
    *out->mutable_uptime() = toDuration(*usage.uptime);
  }
  if (usage.load) {
    v1::LoadAverage* load = out->mutable_load();
    load->set_load1(static_cast<float>(usage.load->one));
    load->set_load5(static_cast<float>(usage.load->five));
    load->set_load15(static_cast<float>(usage.load->fifteen));
  }
  if (usage.memory) {
    v1::MemoryUsage* memory = out->mutable_memory();
    memory->set_total_bytes(usage.memory->total_bytes);
    memory->set_available_bytes(usage.memory->available_bytes);
    memory->set_swap_total_bytes(usage.memory->swap_total_bytes);
    memory->set_swap_free_bytes(usage.memory->swap_free_bytes);
  }
  if (usage.cpu_pressure) {
    fillPressure(*usage.cpu_pressure, out->mutable_cpu_pressure());
  }
  if (usage.memory_pressure) {
    fillPressure(*usage.memory_pressure, out->mutable_memory_pressure());
  }
  if (usage.io_pressure) {
    fillPressure(*usage.io_pressure, out->mutable_io_pressure());
  }
  if (usage.state_disk) {
    v1::DiskUsage* disk = out->mutable_state_disk();
    disk->set_path(usage.state_disk->path);
    disk->set_total_bytes(usage.state_disk->total_bytes);
    disk->set_available_bytes(usage.state_disk->available_bytes);
  }
}

}  // namespace vigie
