// Kills every process of a cgroup that has no cgroup.kill (v1, and cgroup2 before Linux 5.14):
// freeze (when a freezer is there, so that nothing forks meanwhile), read cgroup.procs, SIGKILL
// each process through a pidfd, thaw (a frozen process dies only once thawed), then wait for
// those pidfds on the loop and look again, until cgroup.procs is empty. No sleeps, no polling.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "agent/os/unique_fd.h"
#include "vigie/dispatcher.h"
#include "vigie/result.h"

namespace vigie {

class CgroupKillLoop {
 public:
  using ReadProcs = std::function<Result<std::string>()>;
  using Freeze = std::function<Status(bool frozen)>;

  // `read_procs`: the cgroup's cgroup.procs, read afresh; `freeze`: null without a freezer.
  CgroupKillLoop(Dispatcher& dispatcher, ReadProcs read_procs, Freeze freeze)
      : dispatcher_(dispatcher), read_procs_(std::move(read_procs)), freeze_(std::move(freeze)) {}

  // Starts (or restarts) killing; `on_empty` runs once cgroup.procs is empty, from inside this
  // call when it is empty already.
  void start(std::function<void()> on_empty);
  bool running() const { return running_; }

 private:
  void round();
  void finish();

  Dispatcher& dispatcher_;
  ReadProcs read_procs_;
  Freeze freeze_;
  bool running_ = false;
  std::function<void()> on_empty_;
  std::vector<UniqueFd> pidfds_;
  std::vector<FdWatchPtr> watches_;
  size_t remaining_ = 0;
};

}  // namespace vigie
