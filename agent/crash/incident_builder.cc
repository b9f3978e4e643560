#include "agent/crash/incident_builder.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "agent/coredump/capture_id.h"
#include "agent/supervisor/unit.h"

namespace vigie::crash {

namespace pbu = google::protobuf::util;

namespace {

google::protobuf::Timestamp toTimestamp(WallTime time) {
  return pbu::TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count());
}

google::protobuf::Duration toProtoDuration(Duration duration) {
  return pbu::TimeUtil::NanosecondsToDuration(duration.count());
}

google::protobuf::Duration fromTimeval(const timeval& tv) {
  return pbu::TimeUtil::MicrosecondsToDuration(int64_t{tv.tv_sec} * 1000000 + tv.tv_usec);
}

void hashInto(uint64_t& hash, std::string_view text) {
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  hash ^= 0xff;  // a separator, so that {"ab","c"} and {"a","bc"} differ.
  hash *= 0x100000001b3ULL;
}

}  // namespace

bool isAbnormalEnd(const WorkloadSpec& spec, const ExitStatus& status, bool stopping) {
  if (status.coreDumped()) {
    return true;
  }
  if (stopping) {
    return false;
  }
  switch (status.kind) {
    case ExitStatus::Kind::kExited:
      return std::find(spec.success_exit_codes.begin(), spec.success_exit_codes.end(),
                       status.code) == spec.success_exit_codes.end();
    case ExitStatus::Kind::kKilled:
    case ExitStatus::Kind::kLost:
      return true;
    case ExitStatus::Kind::kDumped:
      return true;
  }
  return true;
}

// The supervisor's reading of the end wins over the raw status: a watchdog's SIGABRT is a hang,
// an OOM kill's SIGKILL is memory, and a liveness kill's SIGTERM is a failed probe.
std::string endReason(const InstanceRecord& instance, const ExitStatus& status) {
  if (instance.oom_killed) {
    return "oom-killed";
  }
  if (instance.health.end_reason != EndReason::kNone) {
    return std::string(endReasonName(instance.health.end_reason));
  }
  switch (status.kind) {
    case ExitStatus::Kind::kExited:
      return "exited";
    case ExitStatus::Kind::kKilled:
      return "signaled";
    case ExitStatus::Kind::kDumped:
      return "core-dumped";
    case ExitStatus::Kind::kLost:
      return "lost";
  }
  return "unknown";
}

std::string specHash(const WorkloadSpec& spec) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const auto& arg : spec.exec) {
    hashInto(hash, arg);
  }
  for (const auto& [key, value] : spec.env) {
    hashInto(hash, key + "=" + value);
  }
  hashInto(hash, spec.cwd);
  hashInto(hash, spec.user);
  hashInto(hash, spec.group);
  hashInto(hash, std::to_string(spec.umask));
  for (const auto& limit : spec.rlimits) {
    hashInto(hash, std::to_string(limit.resource) + ":" + std::to_string(limit.soft) + ":" +
                       std::to_string(limit.hard));
  }
  hashInto(hash, spec.oom_score_adj ? std::to_string(*spec.oom_score_adj) : "-");
  hashInto(hash, spec.core ? "core" : "nocore");
  char text[17];
  std::snprintf(text, sizeof text, "%016" PRIx64, hash);
  return text;
}

std::string makeIncidentId(WallTime at, pid_t pid) {
  return coredump::makeCaptureId(std::chrono::system_clock::to_time_t(at), pid,
                                 coredump::randomTag());
}

v1::CrashIncident incidentForInstance(const Unit& unit, const InstanceRecord& instance,
                                      const std::string& id, bool core_expected, WallTime now) {
  v1::CrashIncident incident;
  incident.set_id(id);
  incident.set_status(core_expected ? v1::INCIDENT_STATUS_PENDING : v1::INCIDENT_STATUS_NO_CORE);
  incident.set_unit(unit.name());
  incident.set_instance_id(instance.id);
  const WorkloadSpec& spec = unit.spec();
  if (!spec.exec.empty()) {
    incident.set_exe(spec.exec.front());
  }
  for (const auto& arg : spec.exec) {
    incident.add_cmdline(arg);
  }
  incident.set_pid(instance.pid);
  incident.set_start_time_ticks(instance.start_ticks);
  if (instance.exit) {
    const ExitStatus& exit = *instance.exit;
    incident.set_reason(endReason(instance, exit));
    if (exit.kind == ExitStatus::Kind::kExited) {
      incident.set_exit_code(exit.code);
    } else if (exit.bySignal()) {
      incident.set_signal(exit.signal);
      incident.set_signal_name(signalName(exit.signal));
    }
    *incident.mutable_ended() = toTimestamp(exit.at_wall);
    if (exit.at_mono >= instance.started_mono) {
      *incident.mutable_uptime() = toProtoDuration(exit.at_mono - instance.started_mono);
    }
    auto* usage = incident.mutable_usage();
    *usage->mutable_user_cpu() = fromTimeval(exit.usage.ru_utime);
    *usage->mutable_system_cpu() = fromTimeval(exit.usage.ru_stime);
    usage->set_max_rss_bytes(static_cast<uint64_t>(exit.usage.ru_maxrss) * 1024);
    usage->set_minor_faults(static_cast<uint64_t>(exit.usage.ru_minflt));
    usage->set_major_faults(static_cast<uint64_t>(exit.usage.ru_majflt));
    usage->set_voluntary_switches(static_cast<uint64_t>(exit.usage.ru_nvcsw));
    usage->set_involuntary_switches(static_cast<uint64_t>(exit.usage.ru_nivcsw));
  }
  *incident.mutable_started() = toTimestamp(instance.started_wall);
  incident.set_restart_count(unit.restartCount());
  incident.set_spec_hash(specHash(spec));
  incident.set_stdout_tail(instance.stdout_tail.contents());
  incident.set_stderr_tail(instance.stderr_tail.contents());
  if (!core_expected) {
    // Without a backtrace: the exe and the exit code or signal.
    incident.set_fingerprint_basis(incident.exe() + "|" + incident.reason() + "|" +
                                   std::to_string(incident.exit_code()) + "|" +
                                   std::to_string(incident.signal()));
    uint64_t hash = 0xcbf29ce484222325ULL;
    hashInto(hash, incident.fingerprint_basis());
    char text[17];
    std::snprintf(text, sizeof text, "%016" PRIx64, hash);
    incident.set_fingerprint(text);
  }
  *incident.mutable_opened() = toTimestamp(now);
  *incident.mutable_updated() = toTimestamp(now);
  return incident;
}

void applyReport(v1::CrashIncident& incident, const v1::CaptureReport& report,
                 const std::string& entry, WallTime now) {
  incident.set_capture_id(entry);
  incident.set_capture_outcome(report.outcome());
  const auto& process = report.process();
  if (!process.exe().empty()) {
    incident.set_exe(process.exe());
  }
  if (process.cmdline_size() > 0) {
    incident.clear_cmdline();
    for (const auto& arg : process.cmdline()) {
      incident.add_cmdline(arg);
    }
  }
  if (incident.pid() == 0) {
    incident.set_pid(process.pid());
    incident.set_start_time_ticks(process.start_time_ticks());
  }
  if (incident.signal() == 0 && report.signal() != 0) {
    incident.set_signal(report.signal());
    incident.set_signal_name(report.signal_name());
  }
  *incident.mutable_backtrace() = report.backtrace();
  const auto& core = report.core();
  incident.set_core_state(core.state());
  incident.set_core_path(core.state() == v1::CORE_STATE_STORED ? core.path() : "");
  incident.set_core_raw_bytes(core.raw_bytes());
  incident.set_core_stored_bytes(core.stored_bytes());
  incident.set_truncated(core.truncated());
  if (!report.fingerprint().empty()) {
    incident.set_fingerprint(report.fingerprint());
    incident.set_fingerprint_basis(report.fingerprint_basis());
  }
  incident.clear_errors();
  for (const auto& error : report.errors()) {
    *incident.add_errors() = error;
  }
  switch (report.outcome()) {
    case v1::CAPTURE_OUTCOME_COMPLETE:
      incident.set_status(v1::INCIDENT_STATUS_COMPLETE);
      break;
    case v1::CAPTURE_OUTCOME_NO_CORE:
      incident.set_status(v1::INCIDENT_STATUS_NO_CORE);
      break;
    case v1::CAPTURE_OUTCOME_TIMED_OUT:
      incident.set_status(v1::INCIDENT_STATUS_TIMED_OUT);
      break;
    default:
      incident.set_status(v1::INCIDENT_STATUS_CAPTURE_FAILED);
      break;
  }
  *incident.mutable_updated() = toTimestamp(now);
}

v1::CrashIncident nodeIncident(const v1::CaptureReport& report, const std::string& entry,
                               WallTime now) {
  v1::CrashIncident incident;
  incident.set_id(entry);
  incident.set_node_level(true);
  incident.set_reason("core-dumped");
  *incident.mutable_ended() = report.crash_time();
  *incident.mutable_started() = report.process().start_time();
  *incident.mutable_opened() = toTimestamp(now);
  applyReport(incident, report, entry, now);
  return incident;
}

v1::CrashIncident unreadableReportIncident(const std::string& entry, const std::string& error,
                                           WallTime now) {
  v1::CrashIncident incident;
  incident.set_id(entry);
  incident.set_node_level(true);
  incident.set_status(v1::INCIDENT_STATUS_CAPTURE_FAILED);
  incident.set_capture_id(entry);
  auto* failure = incident.add_errors();
  failure->set_stage("intake");
  failure->set_message(error);
  *incident.mutable_opened() = toTimestamp(now);
  *incident.mutable_updated() = toTimestamp(now);
  return incident;
}

void markTimedOut(v1::CrashIncident& incident, WallTime now) {
  incident.set_status(v1::INCIDENT_STATUS_TIMED_OUT);
  auto* failure = incident.add_errors();
  failure->set_stage("intake");
  failure->set_message("no report from vigie-coredump within crash.report_timeout");
  *incident.mutable_updated() = toTimestamp(now);
}

}  // namespace vigie::crash
