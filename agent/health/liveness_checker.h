#pragma once

#include <functional>

#include "agent/health/probe.h"
#include "vigie/config.h"
#include "vigie/dispatcher.h"
#include "vigie/health.h"
#include "vigie/process.h"

namespace vigie {

// Runs one instance's liveness probe and keeps its LivenessStatus (the instance's record):
//   - the first run at start + initial_delay, each next one `period` after the previous run
//     started (never two at once: a run that took longer than the period is followed at once);
//   - a run that has no result after `timeout` is cancelled (an exec probe's group is killed)
//     and counts as failed;
//   - `failure_threshold` failures in a row report kLivenessFailed once, and probing stops: the
//     unit ends the instance.
// Events go to `on_event` (kProbePassing, kProbeFailed, kLivenessFailed); it may not destroy the
// checker. Loop thread only.
class LivenessChecker {
 public:
  using OnEvent = std::function<void(HealthEvent)>;

  LivenessChecker(Dispatcher& dispatcher, ProbeFactory& probes, ProbeSpec spec, SpawnSpec exec_base,
                  MonoTime started, LivenessStatus& status, OnEvent on_event);
  LivenessChecker(const LivenessChecker&) = delete;
  LivenessChecker& operator=(const LivenessChecker&) = delete;

  // A reload changed the probe: a run in flight is cancelled and the schedule starts again from
  // the instance's start; the counts so far are kept.
  void reconfigure(ProbeSpec spec);
  bool stopped() const { return stopped_; }

 private:
  void runProbe();
  void onResult(ProbeResult result);
  void onTimeout();
  void schedule(MonoTime at);

  Dispatcher& dispatcher_;
  ProbeFactory& probes_;
  ProbeSpec spec_;
  SpawnSpec exec_base_;
  MonoTime started_;
  LivenessStatus& status_;
  OnEvent on_event_;
  ProbeRunPtr run_;
  MonoTime run_started_{};
  bool stopped_ = false;  // the threshold was reached.
  TimerPtr next_timer_;
  TimerPtr timeout_timer_;
};

}  // namespace vigie
