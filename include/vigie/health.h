#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vigie/time.h"

namespace vigie {

// What a unit's health checks found (docs/health.md), kept on each instance. agent/health runs
// the checks; the unit acts on what they report.

// Why the agent itself ended an instance, when a health check failed.
enum class EndReason {
  kNone,      // it ended on its own, or was stopped.
  kLiveness,  // its liveness probe failed failure_threshold times in a row.
  kWatchdog,  // no WATCHDOG=1 within its watchdog period.
};

constexpr std::string_view endReasonName(EndReason reason) {
  switch (reason) {
    case EndReason::kNone:
      return "";
    case EndReason::kLiveness:
      return "liveness";
    case EndReason::kWatchdog:
      return "watchdog";
  }
  return "";
}

// The bytes of an exec probe's output (stdout and stderr, in arrival order) kept per result.
inline constexpr size_t kProbeOutputMax = 1024;

// One probe run's outcome.
struct ProbeResult {
  bool ok = false;
  // "HTTP 200", "connected", "exit code 1", "timed out after 1s", "connect 127.0.0.1:80: ...".
  std::string status;
  std::string output;  // exec probes: the last kProbeOutputMax bytes they wrote.
  MonoTime at_mono{};
  WallTime at_wall{};
};

enum class ProbeState {
  kPending,  // initial delay, or no result yet.
  kPassing,  // the latest run succeeded.
  kFailing,  // the latest run failed.
};

// A liveness probe over one instance.
struct LivenessStatus {
  ProbeState state = ProbeState::kPending;
  uint32_t consecutive_failures = 0;
  uint32_t failure_threshold = 0;
  uint64_t failures = 0;  // failed runs during this instance.
  std::optional<ProbeResult> last;
  std::optional<ProbeResult> last_failure;
};

struct InstanceHealth {
  // With notify: READY=1 received. Without: it started (there is nothing else to wait for).
  bool ready = false;
  std::string notify_status;               // the latest STATUS= (notify units).
  std::optional<LivenessStatus> liveness;  // units with a probe.
  EndReason end_reason = EndReason::kNone;
  // Why, in words: "HTTP 500 (3 failures in a row)", "no WATCHDOG=1 for 10s".
  std::string end_detail;
};

// What a unit tells its observers about its current instance's health.
enum class HealthEvent {
  kReady,            // READY=1 (notify units).
  kStatus,           // a new STATUS= text.
  kProbePassing,     // the probe passes again, or for the first time, or with a new status.
  kProbeFailed,      // one failed run (below the threshold or not).
  kLivenessFailed,   // failure_threshold in a row: the instance is being ended.
  kWatchdogExpired,  // no WATCHDOG=1 in time: SIGABRT, then SIGKILL after stop.timeout.
};

}  // namespace vigie
