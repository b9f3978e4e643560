#pragma once

#include <list>
#include <memory>

#include "agent/health/probe.h"
#include "vigie/dispatcher.h"
#include "vigie/process.h"

namespace vigie {

// The real probes: http and tcp through SocketProbe, exec probes as tracked child processes of
// the spawner (see exec_run.h). Loop thread only. Exec runs outlive their handle until their
// process is reaped: a cancelled (timed-out) run is SIGKILLed and waited for through its pidfd
// like any other child, never left a zombie.
class LinuxProbeFactory final : public ProbeFactory {
 public:
  LinuxProbeFactory(Dispatcher& dispatcher, ProcessSpawner& spawner);
  ~LinuxProbeFactory() override;
  LinuxProbeFactory(const LinuxProbeFactory&) = delete;
  LinuxProbeFactory& operator=(const LinuxProbeFactory&) = delete;

  Result<ProbeRunPtr> start(const ProbeSpec& spec, const SpawnSpec& exec_base, Done done) override;

  // Exec probe processes started and not yet reaped (cancelled ones included).
  size_t execRunsInFlight() const { return exec_runs_.size(); }

 private:
  class ExecRun;
  class ExecHandle;

  Result<ProbeRunPtr> startExec(const ProbeSpec& spec, const SpawnSpec& exec_base, Done done);
  void onExecExit(ExecRun* run, const ExitStatus& status);

  Dispatcher& dispatcher_;
  ProcessSpawner& spawner_;
  std::list<std::unique_ptr<ExecRun>> exec_runs_;
};

}  // namespace vigie
