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
  prepareSpawnSpec();
  openOutput();
  timer_ = context_.dispatcher.createTimer([this] { handle(UnitEvent::kTimerFired); });
}

Unit::~Unit() {
  // Destroying a unit with a live instance leaves the process running unsupervised: callers
  // stop units first. Kill as a last resort so that nothing runs untracked.
  if (current_ != nullptr && current_->process) {
    current_->process->signalGroup(SIGKILL).ok();
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
    spawn_spec_error_.clear();
  } else {
    spawn_spec_error_ = prepared.error().message;
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
  spec_ = std::move(spec);
  tracker_.setSpec(spec_.restart);
  prepareSpawnSpec();
  openOutput();
}

Unit::Reconfigured Unit::reconfigure(WorkloadSpec spec) {
  if (!processDefinitionDiffers(spec_, spec)) {
    const bool same =
        spec.restart == spec_.restart && spec.success_exit_codes == spec_.success_exit_codes &&
        spec.stop == spec_.stop && spec.output == spec_.output && spec.history == spec_.history;
    spec_ = std::move(spec);
    tracker_.setSpec(spec_.restart);
    return same ? Reconfigured::kUnchanged : Reconfigured::kUpdatedInPlace;
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
  if (next_instance_id_ > 1) {
    ++total_restarts_;
  }
  InstanceRecord& instance = pushInstance();
  instance.started_mono = context_.dispatcher.monotonicNow();
  instance.started_wall = context_.dispatcher.wallNow();
  if (!spawn_spec_error_.empty()) {
    prepareSpawnSpec();  // the user database may have changed since.
  }
  auto process = spawn_spec_error_.empty()
                     ? context_.spawner.spawn(spawn_spec_,
                                              [this, &instance](const ExitStatus& status) {
                                                onInstanceExit(instance, status);
                                              })
                     : Result<ProcessPtr>(Error{spawn_spec_error_, ENOENT});
  if (!process) {
    instance.spawn_error = process.error().message;
    ++failed_starts_;
    context_.observer.onSpawnFailed(*this, instance);
    onEnded(instance, ExitKind::kSpawnFailed, Duration::zero());
    return;
  }
  instance.process = std::move(*process);
  instance.pid = instance.process->pid();
  instance.start_ticks = instance.process->startTicks();
  Dispatcher& dispatcher = context_.dispatcher;
  instance.stdout_reader = std::make_unique<OutputReader>(
      dispatcher, UniqueFd(instance.process->takeStdout()), instance.stdout_tail,
      forwardTo(OutputStream::kStdout, instance.id));
  instance.stderr_reader = std::make_unique<OutputReader>(
      dispatcher, UniqueFd(instance.process->takeStderr()), instance.stderr_tail,
      forwardTo(OutputStream::kStderr, instance.id));
  if (output_) {
    output_->instanceStarted(instance.id, instance.pid);
  }
  current_ = &instance;
  context_.observer.onInstanceStarted(*this, instance);
  handle(UnitEvent::kSpawned);
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

void Unit::onInstanceExit(InstanceRecord& instance, const ExitStatus& status) {
  instance.exit = status;
  if (current_ == &instance) {
    current_ = nullptr;
  }
  onEnded(instance, classifyExit(spec_, status), status.at_mono - instance.started_mono);
}

void Unit::onEnded(InstanceRecord& instance, ExitKind kind, Duration uptime) {
  if (state_ == UnitState::kStopping) {
    context_.observer.onInstanceEnded(*this, instance, RestartDecision{}, /*stopping=*/true);
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
