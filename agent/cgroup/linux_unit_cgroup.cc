#include "agent/cgroup/linux_unit_cgroup.h"

#include <chrono>

#include "agent/cgroup/cgroup_files.h"

namespace vigie {

LinuxUnitCgroup::LinuxUnitCgroup(std::string unit, Dispatcher& dispatcher,
                                 CgroupEventsWatcher* watcher, CgroupWarn warn, Parts parts)
    : unit_(std::move(unit)),
      dispatcher_(dispatcher),
      watcher_(watcher),
      warn_(std::move(warn)),
      v2_(std::move(parts.v2)),
      v2_limits_(parts.v2_limits),
      v1_(std::move(parts.v1)),
      controllers_(std::move(parts.controllers)) {
  // Without cgroup.kill (v1, or cgroup2 before Linux 5.14): the kill loop over cgroup.procs.
  if (!(v2_ && v2_->hasKill() && watcher_ != nullptr)) {
    CgroupKillLoop::ReadProcs read_procs;
    if (v2_) {
      read_procs = [this] { return readCgroupFile(v2_->procsReadFd()); };
    } else if (v1_) {
      read_procs = [this] { return v1_->readProcs(); };
    }
    CgroupKillLoop::Freeze freeze;
    if (v2_ && v2_->hasFreeze()) {
      freeze = [this](bool frozen) { return v2_->freeze(frozen); };
    } else if (!v2_ && v1_ && v1_->hasFreezer()) {
      freeze = [this](bool frozen) { return v1_->freeze(frozen); };
    }
    if (read_procs) {
      kill_loop_ =
          std::make_unique<CgroupKillLoop>(dispatcher_, std::move(read_procs), std::move(freeze));
    }
  }
}

LinuxUnitCgroup::~LinuxUnitCgroup() {
  events_watch_.reset();
  kill_loop_.reset();
  fallback_loop_.reset();
  if (populated() && warn_) {
    warn_(unit_ + ": cgroup " + describe() + " still has processes; not removed");
  }
}

std::string LinuxUnitCgroup::describe() const {
  std::string out = v1_ ? v1_->describe() : std::string();
  if (v2_) {
    out += (out.empty() ? "" : " ") + std::string("0::") + v2_->path();
  }
  return out;
}

Status LinuxUnitCgroup::apply(const ResourcesSpec& resources) {
  const std::vector<MissingLimit> missing = missingLimits(resources, controllers_);
  if (!missing.empty()) {
    const std::string what =
        "cannot enforce " + describeMissing(missing) + " on this host's cgroups";
    if (!resources.optional) {
      return Error{what, ENOTSUP};
    }
    if (warn_) {
      warn_(unit_ + ": " + what + " (optional: ignored)");
    }
  }
  if (v2_limits_) {
    return v2_->writeLimits(v2LimitWrites(resources));
  }
  if (v1_) {
    return v1_->modify(v1LimitWrites(resources));
  }
  return Status::okStatus();
}

CgroupPlacement LinuxUnitCgroup::placement() const {
  CgroupPlacement placement;
  if (v2_) {
    placement.cgroup2_dir_fd = v2_->dirFd();
    placement.cgroup2_procs_fd = v2_->procsWriteFd();
  }
  if (v1_) {
    placement.v1_procs_fds = v1_->procsWriteFds();
  }
  return placement;
}

std::optional<uint64_t> LinuxUnitCgroup::oomKills() const {
  if (v2_limits_) {
    return v2_->oomKills();
  }
  return v1_ ? v1_->oomKills() : std::nullopt;
}

std::optional<uint64_t> LinuxUnitCgroup::cpuUsageNs() const {
  // cgroup2's cpu.stat is there even without the cpu controller (hybrid hosts).
  if (v2_) {
    return v2_->cpuUsageNs();
  }
  return v1_ ? v1_->cpuUsageNs() : std::nullopt;
}

void LinuxUnitCgroup::beginInstance() {
  oom_base_ = oomKills();
  cpu_base_ = cpuUsageNs();
  peak_per_instance_ = v2_limits_ ? v2_->resetPeak() : v1_ && v1_->resetPeak();
}

CgroupInstanceStats LinuxUnitCgroup::endInstance() {
  CgroupInstanceStats stats;
  const std::optional<uint64_t> oom = oomKills();
  if (oom && oom_base_) {
    stats.oom_kills = *oom >= *oom_base_ ? *oom - *oom_base_ : 0;
  }
  const std::optional<uint64_t> cpu = cpuUsageNs();
  if (cpu && cpu_base_ && *cpu >= *cpu_base_) {
    stats.cpu_time = std::chrono::nanoseconds(*cpu - *cpu_base_);
  }
  if (peak_per_instance_) {
    stats.memory_peak_bytes = v2_limits_ ? v2_->peak() : v1_->peak();
  }
  return stats;
}

bool LinuxUnitCgroup::populated() const {
  if (v2_) {
    return v2_->populated();
  }
  if (v1_) {
    auto text = v1_->readProcs();
    return !text || !parsePids(*text).empty();
  }
  return false;
}

void LinuxUnitCgroup::killAll(std::function<void()> on_empty) {
  if (kill_loop_) {
    kill_loop_->start(std::move(on_empty));
    return;
  }
  if (!v2_->populated()) {
    // The usual case on a restart (the main process was the only one): no watch, no kill.
    events_watch_.reset();
    waiting_ = false;
    on_empty_ = nullptr;
    if (on_empty) {
      on_empty();
    }
    return;
  }
  on_empty_ = std::move(on_empty);
  waiting_ = true;
  if (!events_watch_) {
    // Watched before the kill, so that the change to "populated 0" cannot come unseen.
    auto watch = watcher_->watch(v2_->eventsPath(), [this] { checkEmpty(); });
    if (!watch) {
      // Without a watch, wait for the processes themselves.
      if (warn_) {
        warn_(unit_ + ": " + watch.error().message + "; waiting on pidfds instead");
      }
      v2_->kill().ok();
      if (!fallback_loop_) {
        fallback_loop_ = std::make_unique<CgroupKillLoop>(
            dispatcher_, [this] { return readCgroupFile(v2_->procsReadFd()); }, nullptr);
      }
      auto callback = std::move(on_empty_);
      on_empty_ = nullptr;
      waiting_ = false;
      fallback_loop_->start(std::move(callback));
      return;
    }
    events_watch_ = std::move(*watch);
  }
  if (!v2_->populated()) {
    finishKill();
    return;
  }
  if (Status killed = v2_->kill(); !killed && warn_) {
    warn_(unit_ + ": cgroup.kill: " + killed.error().message);
  }
  checkEmpty();
}

void LinuxUnitCgroup::checkEmpty() {
  if (waiting_ && !v2_->populated()) {
    finishKill();
  }
}

void LinuxUnitCgroup::finishKill() {
  events_watch_.reset();
  waiting_ = false;
  auto on_empty = std::move(on_empty_);
  on_empty_ = nullptr;
  if (on_empty) {
    on_empty();
  }
}

bool LinuxUnitCgroup::killing() const {
  if (kill_loop_) {
    return kill_loop_->running();
  }
  return waiting_ || (fallback_loop_ && fallback_loop_->running());
}

bool LinuxUnitCgroup::startsWhileKilling() const {
  // cgroup.kill acts at once: a process started after it is not hit. A loop over cgroup.procs
  // would take a new instance with the leftovers.
  return !kill_loop_ && !(fallback_loop_ && fallback_loop_->running());
}

}  // namespace vigie
