#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/health/probe.h"

namespace vigie::testing {

// Probe runs that finish when the test says so. Each run remembers whether it was cancelled
// (its handle dropped before a result: a timeout, or the instance's end).
class FakeProbeFactory final : public ProbeFactory {
 public:
  struct RunState {
    ProbeSpec spec;
    SpawnSpec exec_base;
    Done done;
    bool finished = false;
    bool cancelled = false;
  };

  Result<ProbeRunPtr> start(const ProbeSpec& spec, const SpawnSpec& exec_base, Done done) override {
    ++starts;
    if (fail_starts > 0) {
      --fail_starts;
      return Error{"connect 127.0.0.1:8080: Connection refused", ECONNREFUSED};
    }
    auto state = std::make_shared<RunState>();
    state->spec = spec;
    state->exec_base = exec_base;
    state->done = std::move(done);
    runs.push_back(state);
    return ProbeRunPtr(std::make_unique<Handle>(state));
  }

  // The run in flight (the latest, unfinished and not cancelled), or null.
  RunState* inFlight() const {
    if (runs.empty()) {
      return nullptr;
    }
    RunState* latest = runs.back().get();
    return latest->finished || latest->cancelled ? nullptr : latest;
  }

  // Finishes the run in flight; false when there is none.
  bool finish(bool ok, const std::string& status, const std::string& output = {}) {
    RunState* run = inFlight();
    if (run == nullptr) {
      return false;
    }
    run->finished = true;
    ProbeResult result;
    result.ok = ok;
    result.status = status;
    result.output = output;
    auto done = std::move(run->done);
    done(std::move(result));
    return true;
  }
  bool pass(const std::string& status = "HTTP 200") { return finish(true, status); }
  bool fail(const std::string& status = "HTTP 500") { return finish(false, status); }

  size_t cancelled() const {
    size_t count = 0;
    for (const auto& run : runs) {
      count += run->cancelled ? 1 : 0;
    }
    return count;
  }

  int starts = 0;
  int fail_starts = 0;  // the next N starts fail at once, like a refused connect.
  std::vector<std::shared_ptr<RunState>> runs;

 private:
  class Handle final : public ProbeRun {
   public:
    explicit Handle(std::shared_ptr<RunState> state) : state_(std::move(state)) {}
    ~Handle() override {
      if (!state_->finished) {
        state_->cancelled = true;
      }
    }

   private:
    std::shared_ptr<RunState> state_;
  };
};

}  // namespace vigie::testing
