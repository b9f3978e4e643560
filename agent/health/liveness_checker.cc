#include "agent/health/liveness_checker.h"

#include <algorithm>
#include <utility>

namespace vigie {

LivenessChecker::LivenessChecker(Dispatcher& dispatcher, ProbeFactory& probes, ProbeSpec spec,
                                 SpawnSpec exec_base, MonoTime started, LivenessStatus& status,
                                 OnEvent on_event)
    : dispatcher_(dispatcher),
      probes_(probes),
      spec_(std::move(spec)),
      exec_base_(std::move(exec_base)),
      started_(started),
      status_(status),
      on_event_(std::move(on_event)),
      next_timer_(dispatcher_.createTimer([this] { runProbe(); })),
      timeout_timer_(dispatcher_.createTimer([this] { onTimeout(); })) {
  status_.failure_threshold = spec_.failure_threshold;
  schedule(started_ + spec_.initial_delay);
}

void LivenessChecker::reconfigure(ProbeSpec spec) {
  spec_ = std::move(spec);
  status_.failure_threshold = spec_.failure_threshold;
  if (stopped_) {
    return;  // the instance is being ended already.
  }
  run_.reset();
  timeout_timer_->disable();
  schedule(started_ + spec_.initial_delay);
}

void LivenessChecker::schedule(MonoTime at) {
  // A deadline in the past fires on the next loop turn, never from inside this call.
  next_timer_->enableAt(std::max(at, dispatcher_.monotonicNow()));
}

void LivenessChecker::runProbe() {
  run_started_ = dispatcher_.monotonicNow();
  auto run =
      probes_.start(spec_, exec_base_, [this](ProbeResult result) { onResult(std::move(result)); });
  if (!run) {
    ProbeResult failed;
    failed.status = run.error().message;
    onResult(std::move(failed));
    return;
  }
  run_ = std::move(*run);
  timeout_timer_->enableAt(run_started_ + spec_.timeout);
}

void LivenessChecker::onTimeout() {
  run_.reset();  // cancels it: an exec probe's process group is killed.
  ProbeResult failed;
  failed.status = "timed out after " + formatDuration(spec_.timeout);
  onResult(std::move(failed));
}

void LivenessChecker::onResult(ProbeResult result) {
  // The run may be what called us: it is done, and touches nothing after this call.
  run_.reset();
  timeout_timer_->disable();
  result.at_mono = dispatcher_.monotonicNow();
  result.at_wall = dispatcher_.wallNow();
  const bool changed = status_.state != ProbeState::kPassing || !status_.last ||
                       status_.last->status != result.status;
  if (result.ok) {
    status_.state = ProbeState::kPassing;
    status_.consecutive_failures = 0;
    status_.last = std::move(result);
    if (changed) {
      on_event_(HealthEvent::kProbePassing);
    }
  } else {
    status_.state = ProbeState::kFailing;
    ++status_.consecutive_failures;
    ++status_.failures;
    status_.last = result;
    status_.last_failure = std::move(result);
    if (status_.consecutive_failures >= spec_.failure_threshold) {
      stopped_ = true;
      next_timer_->disable();
      on_event_(HealthEvent::kProbeFailed);
      on_event_(HealthEvent::kLivenessFailed);
      return;
    }
    on_event_(HealthEvent::kProbeFailed);
  }
  schedule(run_started_ + spec_.period);
}

}  // namespace vigie
