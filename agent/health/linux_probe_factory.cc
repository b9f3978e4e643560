#include "agent/health/linux_probe_factory.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <utility>

#include "agent/health/socket_probe.h"
#include "agent/logs/ring_buffer.h"
#include "agent/os/unique_fd.h"

namespace vigie {

// An exec probe's process and its output, from spawn to reap.
class LinuxProbeFactory::ExecRun {
 public:
  explicit ExecRun(Done on_done) : done(std::move(on_done)) {}

  // Takes the output pipes and watches them; what they carry goes into `output`.
  void watchOutput(Dispatcher& dispatcher) {
    out.reset(process->takeStdout());
    err.reset(process->takeStderr());
    if (out) {
      out_watch =
          dispatcher.watchFd(out.get(), kFdReadable, [this](uint32_t) { drain(out, out_watch); });
    }
    if (err) {
      err_watch =
          dispatcher.watchFd(err.get(), kFdReadable, [this](uint32_t) { drain(err, err_watch); });
    }
  }

  // Reads what the pipe holds now (bounded: a probe that floods is cut at its exit anyway).
  void drain(UniqueFd& fd, FdWatchPtr& watch) {
    std::array<char, 4096> chunk;
    for (size_t budget = size_t{64} * 1024; fd && budget > 0;) {
      const ssize_t n = ::read(fd.get(), chunk.data(), chunk.size());
      if (n > 0) {
        output.append(std::string_view(chunk.data(), static_cast<size_t>(n)));
        budget -= std::min(budget, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
      }
      watch.reset();  // EOF: every writer is gone.
      fd.reset();
    }
  }

  ProcessPtr process;
  UniqueFd out;
  UniqueFd err;
  FdWatchPtr out_watch;
  FdWatchPtr err_watch;
  RingBuffer output{kProbeOutputMax};
  Done done;                     // empty once the handle is gone: nobody waits for the result.
  ExecHandle* handle = nullptr;  // while the caller holds the run.
};

// What the caller holds. Dropping it before the result (a timeout) kills the probe's group.
class LinuxProbeFactory::ExecHandle final : public ProbeRun {
 public:
  explicit ExecHandle(ExecRun* run) : run_(run) { run_->handle = this; }
  ~ExecHandle() override {
    if (run_ == nullptr) {
      return;
    }
    run_->handle = nullptr;
    run_->done = nullptr;
    // Its exit is still watched through the pidfd: the factory reaps it, then forgets it.
    run_->process->signalGroup(SIGKILL).ok();
  }
  void detach() { run_ = nullptr; }

 private:
  ExecRun* run_;
};

LinuxProbeFactory::LinuxProbeFactory(Dispatcher& dispatcher, ProcessSpawner& spawner)
    : dispatcher_(dispatcher), spawner_(spawner) {}

LinuxProbeFactory::~LinuxProbeFactory() {
  for (auto& run : exec_runs_) {
    if (run->handle != nullptr) {
      run->handle->detach();
    }
    run->process->signalGroup(SIGKILL).ok();
  }
}

Result<ProbeRunPtr> LinuxProbeFactory::start(const ProbeSpec& spec, const SpawnSpec& exec_base,
                                             Done done) {
  if (spec.kind == ProbeSpec::Kind::kExec) {
    return startExec(spec, exec_base, std::move(done));
  }
  return SocketProbe::start(dispatcher_, spec, std::move(done));
}

Result<ProbeRunPtr> LinuxProbeFactory::startExec(const ProbeSpec& spec, const SpawnSpec& exec_base,
                                                 Done done) {
  SpawnSpec probe = exec_base;
  probe.argv = spec.exec;
  probe.capture_output = true;
  // Outside the unit's cgroup: a probe must not count against the workload's pids or memory,
  // nor be taken by the kill loop that ends an instance.
  probe.cgroup = CgroupPlacement{};
  exec_runs_.push_back(std::make_unique<ExecRun>(std::move(done)));
  ExecRun* run = exec_runs_.back().get();
  auto process =
      spawner_.spawn(probe, [this, run](const ExitStatus& status) { onExecExit(run, status); });
  if (!process) {
    exec_runs_.pop_back();
    return process.error();
  }
  run->process = std::move(*process);
  run->watchOutput(dispatcher_);
  return ProbeRunPtr(std::make_unique<ExecHandle>(run));
}

void LinuxProbeFactory::onExecExit(ExecRun* run, const ExitStatus& status) {
  auto it = exec_runs_.begin();
  while (it != exec_runs_.end() && it->get() != run) {
    ++it;
  }
  if (it == exec_runs_.end()) {
    return;
  }
  // What the probe wrote just before it exited may still be in the pipes.
  run->drain(run->out, run->out_watch);
  run->drain(run->err, run->err_watch);
  ProbeResult result;
  result.ok = status.kind == ExitStatus::Kind::kExited && status.code == 0;
  result.status = status.describe();
  result.output = run->output.contents();
  Done done = std::move(run->done);
  if (run->handle != nullptr) {
    run->handle->detach();
  }
  // The process object may go from inside its own exit callback.
  exec_runs_.erase(it);
  if (done) {
    done(std::move(result));
  }
}

}  // namespace vigie
