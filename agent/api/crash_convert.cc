#include "agent/api/crash_convert.h"

#include <array>
#include <string_view>

#include "agent/api/proto_convert.h"
#include "agent/coredump/fingerprint.h"

namespace vigie {
namespace {

const v1::BacktraceThread* crashingThread(const v1::Backtrace& backtrace) {
  for (const auto& thread : backtrace.threads()) {
    if (thread.crashed()) {
      return &thread;
    }
  }
  return backtrace.threads_size() > 0 ? &backtrace.threads(0) : nullptr;
}

std::string bytesText(uint64_t bytes) {
  return std::to_string(bytes) + " bytes";
}

}  // namespace

bool coreAvailable(const v1::CrashIncident& incident) {
  return incident.core_state() == v1::CORE_STATE_STORED && !incident.core_path().empty() &&
         !incident.core_removed();
}

std::string coreMissingReason(const v1::CrashIncident& incident) {
  if (coreAvailable(incident)) {
    return "";
  }
  if (incident.core_removed()) {
    return "retention removed the core to keep the crash store within its budget "
           "(crash.retention); the record and its backtrace are kept";
  }
  switch (incident.status()) {
    case v1::INCIDENT_STATUS_PENDING:
      return "the core is still being captured (the incident is pending); try again in a moment";
    case v1::INCIDENT_STATUS_TIMED_OUT:
      return "vigie-coredump never reported this crash (the incident timed out)";
    case v1::INCIDENT_STATUS_NO_CORE:
      if (incident.capture_id().empty()) {
        if (incident.reason() == "core-dumped") {
          return "the kernel dumped a core, but not to vigie (core_pattern is not vigie's "
                 "helper: crash.core_pattern leave, or drift)";
        }
        if (incident.reason() == "exited") {
          return "the process exited with code " + std::to_string(incident.exit_code()) +
                 ", which dumps no core";
        }
        return "the process was killed by " +
               (incident.signal_name().empty() ? std::string("a signal") : incident.signal_name()) +
               ", which dumps no core";
      }
      break;
    default:
      break;
  }
  switch (incident.core_state()) {
    case v1::CORE_STATE_DISABLED:
      return "the process had RLIMIT_CORE 0 (the unit's `core: false`, or ulimit -c 0): no core "
             "was dumped";
    case v1::CORE_STATE_TRUNCATED:
      return "the core (" + bytesText(incident.core_raw_bytes()) +
             ") was over the size limit (crash.core_size_max or RLIMIT_CORE) and was not kept; "
             "the backtrace was made from what was read";
    case v1::CORE_STATE_RATE_LIMITED:
      return "too many cores of this fingerprint lately (crash.rate_limit): the core was not "
             "kept, the report was";
    case v1::CORE_STATE_EMPTY:
      return "the kernel sent an empty core";
    case v1::CORE_STATE_FAILED:
      return "storing the core failed (see the incident's errors)";
    case v1::CORE_STATE_TIMED_OUT:
      return "the capture ran out of time (crash.capture_timeout) before the core was stored";
    default:
      break;
  }
  if (incident.status() == v1::INCIDENT_STATUS_CAPTURE_FAILED) {
    return "the capture failed (see the incident's errors)";
  }
  return "the incident has no core";
}

std::string crashingFunction(const v1::Backtrace& backtrace) {
  const v1::BacktraceThread* thread = crashingThread(backtrace);
  if (thread == nullptr) {
    return "";
  }
  std::string first_named;
  for (const auto& frame : thread->frames()) {
    if (frame.function().empty()) {
      continue;
    }
    if (!coredump::isSignalMachinery(frame.function())) {
      return frame.function();
    }
    if (first_named.empty()) {
      first_named = frame.function();
    }
  }
  return first_named;
}

void fillCrashSummary(const v1::CrashIncident& incident, v1::CrashSummary* out) {
  out->set_id(incident.id());
  out->set_status(incident.status());
  out->set_unit(incident.unit());
  out->set_instance_id(incident.instance_id());
  out->set_node_level(incident.node_level());
  out->set_descendant(incident.descendant());
  out->set_exe(incident.exe());
  out->set_pid(incident.pid());
  out->set_reason(incident.reason());
  out->set_exit_code(incident.exit_code());
  out->set_signal(incident.signal());
  out->set_signal_name(incident.signal_name());
  if (incident.has_ended()) {
    *out->mutable_time() = incident.ended();
  } else if (incident.has_opened()) {
    *out->mutable_time() = incident.opened();
  }
  if (incident.has_updated()) {
    *out->mutable_updated() = incident.updated();
  }
  out->set_core_state(incident.core_state());
  out->set_core_available(coreAvailable(incident));
  out->set_core_stored_bytes(incident.core_stored_bytes());
  out->set_core_raw_bytes(incident.core_raw_bytes());
  out->set_core_removed(incident.core_removed());
  out->set_fingerprint(incident.fingerprint());
  out->set_crashing_function(crashingFunction(incident.backtrace()));
}

void fillCrashGroup(const crash::CrashGroup& group, v1::CrashGroup* out) {
  out->set_fingerprint(group.fingerprint);
  out->set_count(group.count);
  *out->mutable_first_seen() = toTimestamp(group.first_seen);
  *out->mutable_last_seen() = toTimestamp(group.last_seen);
  out->set_first_id(group.first_id);
  out->set_last_id(group.last_id);
  out->set_cores_removed(group.cores_removed);
}

void fillCorePattern(const crash::CorePatternState& state, v1::CorePatternStatus* out) {
  out->set_managed(state.managed);
  out->set_installed(state.installed);
  out->set_drift(state.drift);
  out->set_current(state.current);
  out->set_expected(state.expected);
  out->set_error(state.error);
}

}  // namespace vigie
