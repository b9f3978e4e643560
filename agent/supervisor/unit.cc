#include "agent/supervisor/unit.h"

#include <csignal>

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
  spawn_spec_.argv = spec_.exec;
  spawn_spec_.env = buildEnv(context_.base_env, spec_);
  spawn_spec_.cwd = spec_.cwd.empty() ? "/" : spec_.cwd;
  spawn_spec_.capture_output = true;
  timer_ = context_.dispatcher.createTimer([this] { handle(UnitEvent::kTimerFired); });
}

Unit::~Unit() {
  // Destroying a unit with a live instance leaves the process running unsupervised: callers
  // stop units first. Kill as a last resort so that nothing runs untracked.
  if (current_ != nullptr && current_->process) {
    current_->process->signalGroup(SIGKILL).ok();
  }
}

std::vector<std::string> Unit::buildEnv(const std::vector<std::string>& base,
                                        const WorkloadSpec& spec) {
  std::vector<std::string> env;
  env.reserve(base.size() + spec.env.size());
  for (const auto& entry : base) {
    const std::string key = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& [name, value] : spec.env) {
      overridden = overridden || name == key;
    }
    if (!overridden) {
      env.push_back(entry);
    }
  }
  for (const auto& [name, value] : spec.env) {
    std::string entry = name;
    entry.append("=").append(value);
    env.push_back(std::move(entry));
  }
  return env;
}

void Unit::start() {
  if (state_ != UnitState::kRunning && state_ != UnitState::kStopping) {
    tracker_.reset();
  }
  handle(UnitEvent::kStart);
}

void Unit::stop() { handle(UnitEvent::kStop); }

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
  auto process = context_.spawner.spawn(
      spawn_spec_, [this, &instance](const ExitStatus& status) { onInstanceExit(instance, status); });
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
      dispatcher, UniqueFd(instance.process->takeStdout()), instance.stdout_tail);
  instance.stderr_reader = std::make_unique<OutputReader>(
      dispatcher, UniqueFd(instance.process->takeStderr()), instance.stderr_tail);
  current_ = &instance;
  context_.observer.onInstanceStarted(*this, instance);
  handle(UnitEvent::kSpawned);
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
