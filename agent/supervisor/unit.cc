#include "agent/supervisor/unit.h"

#include <csignal>

#include "agent/supervisor/spawn_spec.h"

namespace vigie {
namespace {

UnitEvent eventFor(RestartDecision::Action action) {
  switch (action) {
    case RestartDecision::Action::kDone:
      return UnitEvent::kEndedDone;
    case RestartDecision::Action::kRestartNow:
      return UnitEvent::kEndedRestartNow;
    case RestartDecision::Action::kRestartLater:
      return UnitEvent::kEndedRestartLater;
    case RestartDecision::Action::kFail:
      return UnitEvent::kEndedFail;
  }
  return UnitEvent::kEndedDone;
}

}  // namespace

Unit::Unit(UnitContext& context, WorkloadSpec spec)
    : context_(context), spec_(std::move(spec)), tracker_(spec_.restart) {
  setUpCgroup(spec_.resources);
  prepareSpawnSpec();
  openOutput();
  timer_ = context_.dispatcher.createTimer([this] { handle(UnitEvent::kTimerFired); });
}

Unit::~Unit() {
  // Destroying a unit with a live instance leaves the process running unsupervised: callers
  // stop units first. Kill as a last resort so that nothing runs untracked.
  if (current_ != nullptr && current_->process) {
    current_->process->signalGroup(SIGKILL).ok();
    if (cgroup_) {
      cgroup_->killAll(nullptr);
    }
  }
}

void Unit::openOutput() {
  output_.reset();
  if (context_.output_router != nullptr) {
    output_ = context_.output_router->open(spec_.name, spec_.output);
  }
}

void Unit::prepareSpawnSpec() {
  auto prepared = makeSpawnSpec(context_.base_env, spec_);
  if (prepared) {
    spawn_spec_ = std::move(*prepared);
    spawn_spec_error_ = addHealthEnv(spawn_spec_);
    if (spec_.container && spawn_spec_error_.empty()) {
      // addHealthEnv checked that the socket exists when notify is on.
      const std::string notify_socket =
          spec_.notify && context_.health != nullptr ? context_.health->notify_socket : "";
      auto launch = context_.containers != nullptr
                        ? context_.containers->prepare(spec_.name, *spec_.container, notify_socket,
                                                       spec_.watchdog)
                        : Result<ContainerLaunch>(Error{"this agent runs no containers", ENOTSUP});
      if (launch) {
        spawn_spec_.container = std::move(*launch);
      } else {
        spawn_spec_error_ = "container: " + launch.error().message;
      }
    }
  } else {
    spawn_spec_error_ = prepared.error().message;
  }
  spawn_spec_.cgroup = cgroup_ ? cgroup_->placement() : CgroupPlacement{};
}

void Unit::setUpCgroup(const ResourcesSpec& resources) {
  if (context_.cgroups == nullptr) {
    return;
  }
  if (cgroup_) {
    Status applied = cgroup_->apply(resources);
    cgroup_error_ = applied ? std::string() : "cgroup: " + applied.error().message;
    return;
  }
  auto created = context_.cgroups->createUnit(spec_.name, resources);
  if (!created) {
    cgroup_error_ = "cgroup: " + created.error().message;
    return;
  }
  cgroup_error_.clear();
  cgroup_ = std::move(*created);
  spawn_spec_.cgroup = cgroup_ ? cgroup_->placement() : CgroupPlacement{};
}

void Unit::killCgroup() {
  if (cgroup_) {
    cgroup_->killAll([this] { onCgroupEmpty(); });
  }
}

void Unit::onCgroupEmpty() {
  if (current_ != nullptr) {
    return;  // emptied while its main process lives on (a stop's SIGKILL): its exit comes next.
  }
  if (stop_after_kill_) {
    stop_after_kill_ = false;
    handle(UnitEvent::kEndedDone);
    return;
  }
  if (spawn_after_kill_) {
    spawn_after_kill_ = false;
    if (state_ == UnitState::kStarting) {
      spawnInstance();
    } else if (state_ == UnitState::kStopping) {
      handle(UnitEvent::kEndedDone);  // stopped before the deferred start could happen.
    }
  }
}

void Unit::start() {
  stopped_by_operator_ = false;
  if (state_ != UnitState::kRunning && state_ != UnitState::kStopping) {
    tracker_.reset();
  }
  handle(UnitEvent::kStart);
}

void Unit::stop() {
  stopped_by_operator_ = true;
  pending_spec_.reset();
  handle(UnitEvent::kStop);
}

void Unit::replaceSpec(WorkloadSpec spec) {
  const bool resources_changed = spec.resources != spec_.resources;
  spec_ = std::move(spec);
  tracker_.setSpec(spec_.restart);
  if (resources_changed || !cgroup_error_.empty()) {
    setUpCgroup(spec_.resources);
  }
  prepareSpawnSpec();
  openOutput();
}

Unit::Reconfigured Unit::reconfigure(WorkloadSpec spec) {
  if (!processDefinitionDiffers(spec_, spec)) {
    const bool same = spec.restart == spec_.restart &&
                      spec.success_exit_codes == spec_.success_exit_codes &&
                      spec.stop == spec_.stop && spec.output == spec_.output &&
                      spec.history == spec_.history && spec.resources == spec_.resources;
    if (spec.resources != spec_.resources) {
      setUpCgroup(spec.resources);  // limits change in place: the instance keeps running.
    }
    const bool liveness_changed = spec.liveness != spec_.liveness;
    spec_ = std::move(spec);
    tracker_.setSpec(spec_.restart);
    if (liveness_changed) {
      applyLivenessInPlace();  // the running instance's probe changes with it.
    }
    return same && !liveness_changed ? Reconfigured::kUnchanged : Reconfigured::kUpdatedInPlace;
  }
  if (stopped_by_operator_) {
    replaceSpec(std::move(spec));
    return Reconfigured::kReplacedWhileStopped;
  }
  switch (state_) {
    case UnitState::kStopped:
    case UnitState::kExited:
    case UnitState::kBackingOff:
    case UnitState::kFailed:
      // Nothing runs: take the new spec and start it now, with a fresh restart history.
      handle(UnitEvent::kStop);
      replaceSpec(std::move(spec));
      start();
      return Reconfigured::kRestarted;
    case UnitState::kStarting:
    case UnitState::kRunning:
    case UnitState::kStopping:
      pending_spec_ = std::move(spec);
      handle(UnitEvent::kStop);
      return Reconfigured::kRestarted;
  }
  return Reconfigured::kRestarted;
}

std::optional<MonoTime> Unit::nextStartAt() const {
  if ((state_ == UnitState::kBackingOff || state_ == UnitState::kFailed) && timer_->enabled()) {
    return timer_->deadline();
  }
  return std::nullopt;
}

bool Unit::settled() const {
  return state_ == UnitState::kStopped || state_ == UnitState::kExited;
}

void Unit::handle(UnitEvent event) {
  const UnitTransition t = unitTransition(state_, event);
  if (t.action == UnitAction::kIgnore) {
    return;
  }
  const UnitState from = state_;
  state_ = t.next;
  if (from != state_) {
    context_.observer.onStateChanged(*this, from, state_);
  }
  perform(t.action);
  if (state_ == UnitState::kStopped && pending_spec_) {
    // A reload changed what this unit runs: the old instance is gone, start the new one.
    WorkloadSpec next = std::move(*pending_spec_);
    pending_spec_.reset();
    replaceSpec(std::move(next));
    start();
  }
}

void Unit::perform(UnitAction action) {
  switch (action) {
    case UnitAction::kNone:
    case UnitAction::kIgnore:
      return;
    case UnitAction::kSpawn:
      timer_->disable();
      spawnInstance();
      return;
    case UnitAction::kSendStopSignal:
      if (current_ != nullptr && current_->process) {
        current_->process->signalGroup(spec_.stop.signal).ok();
      }
      timer_->enableAt(context_.dispatcher.monotonicNow() + spec_.stop.timeout);
      return;
    case UnitAction::kKill:
      if (current_ != nullptr && current_->process) {
        current_->process->signalGroup(SIGKILL).ok();
        killCgroup();
      } else if (stop_after_kill_ || spawn_after_kill_) {
        // stop.timeout passed again while the cgroup would not empty (a process stuck in the
        // kernel): stop waiting for it.
        stop_after_kill_ = false;
        spawn_after_kill_ = false;
        handle(UnitEvent::kEndedDone);
      }
      return;
    case UnitAction::kArmRestartTimer:
    case UnitAction::kArmRetryTimer:
      timer_->enableAt(context_.dispatcher.monotonicNow() + pending_delay_);
      return;
    case UnitAction::kCancelTimer:
      timer_->disable();
      return;
  }
}

InstanceRecord& Unit::pushInstance() {
  // Keep `history` ended instances besides the one being started.
  while (instances_.size() > spec_.history) {
    instances_.pop_front();
  }
  instances_.push_back(std::make_unique<InstanceRecord>(next_instance_id_++, spec_.output.tail));
  return *instances_.back();
}

void Unit::spawnInstance() {
  if (cgroup_ && cgroup_->killing() && !cgroup_->startsWhileKilling()) {
    // The leftovers of the previous instance are being killed by a loop over cgroup.procs,
    // which would take the new instance too: start once the cgroup is empty.
    spawn_after_kill_ = true;
    return;
  }
  if (!cgroup_error_.empty()) {
    setUpCgroup(spec_.resources);  // the host may allow it now.
    prepareSpawnSpec();
  }
  if (next_instance_id_ > 1) {
    ++total_restarts_;
  }
  InstanceRecord& instance = pushInstance();
  instance.started_mono = context_.dispatcher.monotonicNow();
  instance.started_wall = context_.dispatcher.wallNow();
  if (!spawn_spec_error_.empty()) {
    prepareSpawnSpec();  // the user database may have changed since.
  }
  Result<ProcessPtr> process = Error{spawn_spec_error_, ENOENT};
  if (!cgroup_error_.empty()) {
    process = Error{cgroup_error_, ENOTSUP};
  } else if (spawn_spec_error_.empty()) {
    if (cgroup_) {
      cgroup_->beginInstance();
    }
    process = context_.spawner.spawn(spawn_spec_, [this, &instance](const ExitStatus& status) {
      onInstanceExit(instance, status);
    });
  }
  if (!process) {
    instance.spawn_error = process.error().message;
    ++failed_starts_;
    context_.observer.onSpawnFailed(*this, instance);
    onEnded(instance, ExitKind::kSpawnFailed, Duration::zero());
    return;
  }
  instance.process = std::move(*process);
  instance.pid = instance.process->pid();
  Dispatcher& dispatcher = context_.dispatcher;
  instance.stdout_reader = std::make_unique<OutputReader>(
      dispatcher, UniqueFd(instance.process->takeStdout()), instance.stdout_tail,
      forwardTo(OutputStream::kStdout, instance.id));
  instance.stderr_reader = std::make_unique<OutputReader>(
      dispatcher, UniqueFd(instance.process->takeStderr()), instance.stderr_tail,
      forwardTo(OutputStream::kStderr, instance.id));
  current_ = &instance;
  if (instance.process->launching()) {
    // An OCI runtime is creating the container: the instance starts once its process exists.
    instance.process->onRunning([this, &instance] { onInstanceRunning(instance); });
    return;
  }
  onInstanceRunning(instance);
}

void Unit::onInstanceRunning(InstanceRecord& instance) {
  instance.pid = instance.process->pid();
  instance.start_ticks = instance.process->startTicks();
  if (output_) {
    output_->instanceStarted(instance.id, instance.pid);
  }
  // A notify unit is ready at READY=1, and stays starting until then (unit_health.cc).
  instance.health.ready = !spec_.notify;
  context_.observer.onInstanceStarted(*this, instance);
  startHealth(instance);
  if (!spec_.notify) {
    handle(UnitEvent::kSpawned);
  }
}

OutputReader::Forward Unit::forwardTo(OutputStream stream, uint64_t instance_id) {
  if (!output_) {
    return {};
  }
  // The reader may outlive a reload that reopens output_: go through the unit, not the object.
  return [this, stream, instance_id](std::string_view data) {
    if (output_) {
      output_->write(stream, instance_id, data);
    }
  };
}

// The pidfd can be reported before the last bytes the process wrote: take them now, so that the
// tail in its exit record and incident ends with its last line.
void Unit::drainOutput(InstanceRecord& instance) {
  for (OutputReader* reader : {instance.stdout_reader.get(), instance.stderr_reader.get()}) {
    if (reader != nullptr) {
      reader->drain();
    }
  }
}

void Unit::onInstanceExit(InstanceRecord& instance, const ExitStatus& status) {
  if (!status.runtime_error.empty()) {
    onRuntimeFailed(instance, status);
    return;
  }
  instance.exit = status;
  drainOutput(instance);
  stopHealth();
  if (cgroup_) {
    instance.cgroup_stats = cgroup_->endInstance();
    // The OOM killer sends SIGKILL; the count must have risen during this very instance.
    instance.oom_killed = status.kind == ExitStatus::Kind::kKilled && status.signal == SIGKILL &&
                          instance.cgroup_stats->oom_kills.value_or(0) > 0;
  }
  if (current_ == &instance) {
    current_ = nullptr;
  }
  // Nothing of an instance outlives it: what escaped its process group (setsid daemons) goes
  // with the cgroup.
  killCgroup();
  onEnded(instance, classifyEnd(spec_, status, instance.health.end_reason),
          status.at_mono - instance.started_mono);
}

// The container runtime could not create or start the container: a failed start, like an exec
// error, never a workload exit (the runtime's exit code is not the workload's).
void Unit::onRuntimeFailed(InstanceRecord& instance, const ExitStatus& status) {
  drainOutput(instance);
  if (cgroup_) {
    cgroup_->endInstance();
  }
  if (current_ == &instance) {
    current_ = nullptr;
  }
  killCgroup();
  instance.spawn_error = status.runtime_error;
  ++failed_starts_;
  context_.observer.onSpawnFailed(*this, instance);
  onEnded(instance, ExitKind::kSpawnFailed, Duration::zero());
}

void Unit::onEnded(InstanceRecord& instance, ExitKind kind, Duration uptime) {
  if (state_ == UnitState::kStopping) {
    context_.observer.onInstanceEnded(*this, instance, RestartDecision{}, /*stopping=*/true);
    if (cgroup_ && cgroup_->killing()) {
      // Stopped once nothing is left in the cgroup; give up after another stop.timeout.
      stop_after_kill_ = true;
      if (!timer_->enabled()) {
        timer_->enableAt(context_.dispatcher.monotonicNow() + spec_.stop.timeout);
      }
      return;
    }
    handle(UnitEvent::kEndedDone);
    return;
  }
  const RestartDecision decision =
      tracker_.onExit(kind, uptime, context_.dispatcher.monotonicNow(), context_.jitter());
  pending_delay_ = decision.delay;
  context_.observer.onInstanceEnded(*this, instance, decision, /*stopping=*/false);
  handle(eventFor(decision.action));
}

}  // namespace vigie
