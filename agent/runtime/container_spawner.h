// Starts OCI containers (SpawnSpec::container) the way containerd's shim does, with vigied as
// the subreaper: `<runtime> run --detach --pid-file` creates and starts the container and exits,
// its process is re-parented to us, and we adopt it through a pidfd. The workload's own exit
// status is then waitid()'s, never the runtime's exit code, which is 1 both for a workload that
// exits 1 and for a runtime error. After every exit the container is deleted.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_set>

#include "vigie/process.h"

namespace vigie {

class ContainerProcess;

class ContainerSpawner final : public ProcessSpawner {
 public:
  // Specs without `container` go to `inner` unchanged. `nonce` makes container ids unique across
  // agent restarts.
  ContainerSpawner(ProcessSpawner& inner, std::string nonce);
  ~ContainerSpawner() override;

  Result<ProcessPtr> spawn(const SpawnSpec& spec, Process::ExitCallback on_exit) override;
  // Also true for a container's process whose runtime has exited but which is not adopted yet:
  // the orphan reaper must not take its exit status.
  bool isTracked(pid_t pid) const override;
  Result<ProcessPtr> adopt(pid_t pid, Process::ExitCallback on_exit) override {
    return inner_.adopt(pid, std::move(on_exit));
  }

  // `<runtime> --root <root> delete --force <id>`, in the background.
  void deleteContainer(const std::string& runtime, const std::string& state_root,
                       const std::string& id);
  // Deletes every container a previous agent left in `state_root` (its processes were ours).
  // Returns how many.
  int deleteLeftovers(const std::string& runtime, const std::string& state_root);

  // Runtime deletions still running.
  size_t pendingDeletes() const { return deletes_.size(); }
  // Runs `on_idle` once no deletion is running (at once when none is).
  void whenIdle(std::function<void()> on_idle);

 private:
  friend class ContainerProcess;

  ProcessSpawner& inner_;
  std::string nonce_;
  uint64_t serial_ = 0;
  std::unordered_set<ContainerProcess*> launching_;
  uint64_t delete_serial_ = 0;
  std::map<uint64_t, ProcessPtr> deletes_;
  std::function<void()> on_idle_;
};

// "runc" for "/usr/sbin/runc": how messages name a runtime, and its state root's directory.
std::string runtimeName(const std::string& runtime);

// The runtime's last error from its --log-format json log: the "msg" of the last "error" line,
// or "" when there is none.
std::string lastRuntimeError(const std::string& log_text);

}  // namespace vigie
