#include "agent/cgroup/kill_loop.h"

#include <signal.h>

#include "agent/cgroup/cgroup_files.h"
#include "agent/os/pidfd.h"

namespace vigie {
namespace {

// Rounds in a row that found processes but could not open a pidfd for any of them (each gone
// between the read and pidfd_open). Past this the cgroup is taken as empty rather than spin.
constexpr int kMaxBlindRounds = 8;

}  // namespace

void CgroupKillLoop::start(std::function<void()> on_empty) {
  on_empty_ = std::move(on_empty);
  running_ = true;
  round();
}

void CgroupKillLoop::round() {
  watches_.clear();
  pidfds_.clear();
  for (int blind = 0; blind < kMaxBlindRounds; ++blind) {
    if (freeze_) {
      // Freezing is not free (v1 flips a kernel static key, which patches code on every CPU):
      // only when there is something to kill.
      auto before = read_procs_();
      if (!before || parsePids(*before).empty()) {
        finish();
        return;
      }
      freeze_(true).ok();
    }
    auto text = read_procs_();
    const std::vector<pid_t> pids = text ? parsePids(*text) : std::vector<pid_t>{};
    for (pid_t pid : pids) {
      UniqueFd pidfd(pidfdOpen(pid, 0));
      if (pidfd && pidfdSendSignal(pidfd.get(), SIGKILL) == 0) {
        pidfds_.push_back(std::move(pidfd));
      }
    }
    if (freeze_) {
      freeze_(false).ok();
    }
    if (pids.empty() || !text) {
      finish();
      return;
    }
    if (!pidfds_.empty()) {
      break;
    }
  }
  if (pidfds_.empty()) {
    finish();
    return;
  }
  remaining_ = 0;
  watches_.resize(pidfds_.size());
  for (size_t i = 0; i < pidfds_.size(); ++i) {
    watches_[i] = dispatcher_.watchFd(pidfds_[i].get(), kFdReadable, [this, i](uint32_t) {
      // A pidfd stays readable once its process is gone: one wake-up each is enough.
      watches_[i].reset();
      if (--remaining_ == 0) {
        round();
      }
    });
    if (watches_[i]) {
      ++remaining_;
    }
  }
  if (remaining_ == 0) {
    finish();  // nothing to wait on (epoll refused every pidfd): do not spin.
  }
}

void CgroupKillLoop::finish() {
  watches_.clear();
  pidfds_.clear();
  running_ = false;
  auto on_empty = std::move(on_empty_);
  on_empty_ = nullptr;
  if (on_empty) {
    on_empty();
  }
}

}  // namespace vigie
