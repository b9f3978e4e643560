#pragma once

#include <functional>
#include <memory>

#include "vigie/config.h"
#include "vigie/health.h"
#include "vigie/process.h"
#include "vigie/result.h"

namespace vigie {

// One run of a probe, in flight. Destroying it cancels the run: a socket probe's connection is
// closed; an exec probe's process group is SIGKILLed (and its process still reaped).
class ProbeRun {
 public:
  virtual ~ProbeRun() = default;
};
using ProbeRunPtr = std::unique_ptr<ProbeRun>;

// Starts probe runs. The timeout is not theirs: the caller (LivenessChecker) cancels a run
// that takes too long, so that every kind of probe times out the same way.
class ProbeFactory {
 public:
  // Called once on the loop thread with the outcome (ok and status; output for exec probes),
  // unless the run is destroyed first. It may destroy the run.
  using Done = std::function<void(ProbeResult)>;

  virtual ~ProbeFactory() = default;
  // `exec_base`: how the workload runs (env, cwd, user, rlimits): an exec probe runs the same
  // way, with its own argv. An error means the run could not start (a refused connect, a
  // missing program): a failed run, reported at once.
  virtual Result<ProbeRunPtr> start(const ProbeSpec& spec, const SpawnSpec& exec_base,
                                    Done done) = 0;
};

}  // namespace vigie
