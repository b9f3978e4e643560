#include "vigie/restart_policy.h"

#include <algorithm>
#include <cmath>

namespace vigie {

Duration backoffDelay(const BackoffSpec& backoff, uint32_t restart, double jitter) {
  if (restart <= 1 || backoff.max <= Duration::zero() || backoff.initial <= Duration::zero()) {
    return Duration::zero();
  }
  // initial * 2^(restart-2), computed in floating point so that large counts saturate at max
  // instead of overflowing.
  const double base = static_cast<double>(backoff.initial.count()) *
                      std::exp2(static_cast<double>(std::min<uint32_t>(restart - 2, 62)));
  const double capped = std::min(base, static_cast<double>(backoff.max.count()));
  const double clamped_jitter = std::clamp(jitter, 0.0, 1.0);
  const double jittered = capped * (1.0 - kBackoffJitterFraction * clamped_jitter);
  return Duration(static_cast<Duration::rep>(jittered));
}

ExitKind classifyExit(const WorkloadSpec& spec, const ExitStatus& status) {
  if (status.bySignal()) {
    return ExitKind::kSignal;
  }
  if (status.kind == ExitStatus::Kind::kLost) {
    return ExitKind::kFailure;
  }
  const auto& ok = spec.success_exit_codes;
  return std::find(ok.begin(), ok.end(), status.code) != ok.end() ? ExitKind::kSuccess
                                                                  : ExitKind::kFailure;
}

ExitKind classifyEnd(const WorkloadSpec& spec, const ExitStatus& status, EndReason reason) {
  switch (reason) {
    case EndReason::kLiveness:
      return ExitKind::kLiveness;
    case EndReason::kWatchdog:
      return ExitKind::kWatchdog;
    case EndReason::kNone:
      break;
  }
  return classifyExit(spec, status);
}

bool RestartTracker::shouldRestart(ExitKind kind) const {
  switch (spec_.policy) {
    case RestartPolicyKind::kAlways:
      return true;
    case RestartPolicyKind::kOnFailure:
      return kind != ExitKind::kSuccess;
    case RestartPolicyKind::kNever:
      return false;
  }
  return false;
}

bool RestartTracker::startLimitHit(MonoTime now) {
  if (spec_.limit.burst == 0) {
    return false;
  }
  while (!recent_.empty() && now - recent_.front() >= spec_.limit.interval) {
    recent_.pop_front();
  }
  if (recent_.size() >= spec_.limit.burst) {
    return true;
  }
  recent_.push_back(now);
  return false;
}

RestartDecision RestartTracker::onExit(ExitKind kind, Duration uptime, MonoTime now,
                                       double jitter) {
  if (uptime >= spec_.backoff.reset_after && kind != ExitKind::kSpawnFailed) {
    // It ran long enough to count as healthy: this failure starts a new run.
    restart_count_ = 0;
    recent_.clear();
    failed_ = false;
  }
  if (!shouldRestart(kind)) {
    return {RestartDecision::Action::kDone, Duration::zero()};
  }
  const Duration retry_period = std::max(spec_.backoff.max, spec_.limit.interval);
  if (failed_ || startLimitHit(now)) {
    failed_ = true;
    return {RestartDecision::Action::kFail, retry_period};
  }
  ++restart_count_;
  Duration delay = backoffDelay(spec_.backoff, restart_count_, jitter);
  if (kind == ExitKind::kSpawnFailed && restart_count_ > 1) {
    // A missing binary stays missing: even with backoff turned off, do not spin the loop on it.
    delay = std::max(delay, kSpawnFailureRetryFloor);
  }
  if (delay == Duration::zero()) {
    return {RestartDecision::Action::kRestartNow, delay};
  }
  return {RestartDecision::Action::kRestartLater, delay};
}

void RestartTracker::reset() {
  restart_count_ = 0;
  recent_.clear();
  failed_ = false;
}

}  // namespace vigie
