#include "agent/api/service/loop_backend.h"

#include <spdlog/spdlog.h>

#include <set>
#include <utility>

#include "agent/api/api_events.h"
#include "agent/api/proto_convert.h"
#include "agent/api/service/unit_names.h"

namespace vigie {
namespace {

using grpc::StatusCode;

grpc::Status shuttingDown() {
  return grpc::Status(StatusCode::UNAVAILABLE, "vigied is stopping");
}

bool ended(const InstanceRecord& instance) {
  return instance.exit.has_value() || !instance.spawn_error.empty();
}

const InstanceRecord* latestInstance(const Unit& unit) {
  if (unit.currentInstance() != nullptr) {
    return unit.currentInstance();
  }
  return unit.instances().empty() ? nullptr : unit.instances().back().get();
}

std::string quoted(const std::string& name) {
  return "\"" + name + "\"";
}

// `tail_bytes` of what the ring buffer kept (0: all); what the ring overwrote is reported as
// dropped only when everything kept is sent.
void pushKept(OutputOutbox& outbox, const InstanceRecord& instance, v1::OutputStream stream,
              const RingBuffer& ring, uint64_t tail_bytes) {
  std::string kept = ring.contents();
  uint64_t dropped = ring.totalBytes() - kept.size();
  if (tail_bytes > 0 && tail_bytes < kept.size()) {
    kept.erase(0, kept.size() - tail_bytes);
    dropped = 0;
  }
  if (!kept.empty() || dropped > 0) {
    pushTail(outbox, instance.id, stream, kept, dropped);
  }
}

}  // namespace

LoopBackend::LoopBackend(Deps deps, std::string config_path, OnReloaded on_reloaded)
    : deps_(deps), config_path_(std::move(config_path)), on_reloaded_(std::move(on_reloaded)) {}

LoopBackend::~LoopBackend() {
  beginShutdown();
}

void LoopBackend::beginShutdown() {
  shutting_down_ = true;
  auto restarts = std::exchange(restarts_, {});
  for (auto& pending : restarts) {
    pending.done(UnitReply{shuttingDown(), {}});
  }
}

grpc::Status LoopBackend::unknownUnit(const std::string& unit) const {
  std::vector<std::string> names;
  for (const auto& known : deps_.supervisor.units()) {
    names.push_back(known->name());
  }
  return grpc::Status(StatusCode::NOT_FOUND, unknownUnitMessage(unit, names));
}

UnitReply LoopBackend::replyFor(const std::string& unit) {
  deps_.updater.publishNow();
  const NodeSnapshot& snapshot = deps_.publisher.latest();
  const UnitEntry* entry = snapshot.find(unit);
  if (entry == nullptr) {
    return UnitReply{grpc::Status(StatusCode::NOT_FOUND, "unit " + quoted(unit) + " is gone"), {}};
  }
  UnitReply reply;
  fillUnit(*entry, snapshot.clock, kSummaryInstances, &reply.unit);
  return reply;
}

void LoopBackend::unitCommand(UnitCommand command, const std::string& name, UnitDone done) {
  if (shutting_down_) {
    done(UnitReply{shuttingDown(), {}});
    return;
  }
  Unit* unit = deps_.supervisor.find(name);
  if (unit == nullptr) {
    done(UnitReply{unknownUnit(name), {}});
    return;
  }
  switch (command) {
    case UnitCommand::kStart:
      unit->start();
      break;
    case UnitCommand::kStop:
      abortRestarts(name, grpc::Status(StatusCode::ABORTED, "the restart of " + quoted(name) +
                                                                " was cancelled by a stop"));
      unit->stop();
      break;
    case UnitCommand::kRestart:
      restart(*unit, std::move(done));
      return;
  }
  done(replyFor(name));
}

void LoopBackend::restart(Unit& unit, UnitDone done) {
  const std::string name = unit.name();
  switch (unit.state()) {
    case UnitState::kStarting:
    case UnitState::kRunning:
      unit.stop();
      if (unit.state() == UnitState::kStopping) {
        restarts_.push_back(PendingRestart{name, std::move(done)});
        return;
      }
      break;
    case UnitState::kStopping:
      // Already on its way down (a stop, a reload): start it once it is down.
      restarts_.push_back(PendingRestart{name, std::move(done)});
      return;
    case UnitState::kStopped:
    case UnitState::kBackingOff:
    case UnitState::kFailed:
    case UnitState::kExited:
      break;
  }
  unit.start();
  done(replyFor(name));
}

void LoopBackend::finishRestarts(const std::string& name) {
  std::vector<PendingRestart> ready;
  std::erase_if(restarts_, [&](PendingRestart& pending) {
    if (pending.unit != name) {
      return false;
    }
    ready.push_back(std::move(pending));
    return true;
  });
  if (ready.empty()) {
    return;
  }
  Unit* unit = deps_.supervisor.find(name);
  if (unit == nullptr) {
    for (auto& pending : ready) {
      pending.done(UnitReply{
          grpc::Status(StatusCode::ABORTED, "unit " + quoted(name) + " was removed by a reload"),
          {}});
    }
    return;
  }
  if (unit->state() == UnitState::kStopping) {
    // Stopped, and already stopping again: wait for that stop too.
    std::move(ready.begin(), ready.end(), std::back_inserter(restarts_));
    return;
  }
  if (unit->state() != UnitState::kStarting && unit->state() != UnitState::kRunning) {
    unit->start();
  }
  const UnitReply reply = replyFor(name);
  for (auto& pending : ready) {
    pending.done(reply);
  }
}

void LoopBackend::abortRestarts(const std::string& name, const grpc::Status& status) {
  std::vector<PendingRestart> aborted;
  std::erase_if(restarts_, [&](PendingRestart& pending) {
    if (pending.unit != name) {
      return false;
    }
    aborted.push_back(std::move(pending));
    return true;
  });
  for (auto& pending : aborted) {
    pending.done(UnitReply{status, {}});
  }
}

grpc::Status LoopBackend::signalUnit(const std::string& name, int signal, bool process_group) {
  if (shutting_down_) {
    return shuttingDown();
  }
  Unit* unit = deps_.supervisor.find(name);
  if (unit == nullptr) {
    return unknownUnit(name);
  }
  const InstanceRecord* current = unit->currentInstance();
  if (current == nullptr || !current->running()) {
    return grpc::Status(StatusCode::FAILED_PRECONDITION,
                        "unit " + quoted(name) + " has no running instance (it is " +
                            std::string(unitStateName(unit->state())) + ")");
  }
  const Status sent =
      process_group ? current->process->signalGroup(signal) : current->process->signal(signal);
  if (!sent) {
    return grpc::Status(StatusCode::INTERNAL, sent.error().message);
  }
  spdlog::info("{}: {} sent to instance {}{} through the API", name, signalName(signal),
               current->id, process_group ? " (process group)" : "");
  return grpc::Status::OK;
}

grpc::Status LoopBackend::reloadConfig(v1::ReloadConfigResponse* response) {
  if (shutting_down_) {
    return shuttingDown();
  }
  const ConfigLoadResult loaded = loadConfigFile(config_path_);
  if (!loaded.ok()) {
    for (const ConfigError& error : loaded.errors) {
      spdlog::error("reload: {}", error.format());
      v1::ConfigError* out = response->add_errors();
      out->mutable_location()->set_file(error.location.file);
      out->mutable_location()->set_line(static_cast<uint32_t>(std::max(error.location.line, 0)));
      out->mutable_location()->set_column(
          static_cast<uint32_t>(std::max(error.location.column, 0)));
      out->set_message(error.message);
    }
    spdlog::error("reload of {} rejected ({} error(s)); the running units are unchanged",
                  config_path_, loaded.errors.size());
    response->set_applied(false);
    deps_.updater.addEvent(
        configReloadedEvent(nullptr, loaded.errors.size(), deps_.dispatcher.wallNow()));
  } else {
    const Supervisor::ReloadSummary summary = deps_.supervisor.reload(loaded.config);
    spdlog::info("reloaded {}: {}", config_path_, summary.describe());
    if (on_reloaded_) {
      on_reloaded_(loaded.config);
    }
    response->set_applied(true);
    fillReloadSummary(summary, response->mutable_summary());
    deps_.updater.addEvent(
        configReloadedEvent(&response->summary(), 0, deps_.dispatcher.wallNow()));
  }
  // Published before the reply: a Heartbeat after it sees the reloaded units.
  deps_.updater.publishNow();
  return grpc::Status::OK;
}

grpc::Status LoopBackend::readOutput(const v1::ReadOutputRequest& request,
                                     const std::shared_ptr<OutputOutbox>& outbox) {
  Unit* unit = deps_.supervisor.find(request.unit());
  if (unit == nullptr) {
    return unknownUnit(request.unit());
  }
  const auto& instances = unit->instances();
  const InstanceRecord* selected = nullptr;
  switch (request.instance()) {
    case v1::INSTANCE_SELECTOR_PREVIOUS:
      if (instances.size() < 2) {
        return grpc::Status(
            StatusCode::NOT_FOUND,
            "unit " + quoted(unit->name()) + " has no previous instance: " +
                (instances.empty()
                     ? std::string("it has not run yet")
                     : "only instance " + std::to_string(instances.back()->id) + " is kept"));
      }
      selected = instances[instances.size() - 2].get();
      break;
    case v1::INSTANCE_SELECTOR_ID:
      for (const auto& instance : instances) {
        if (instance->id == request.instance_id()) {
          selected = instance.get();
        }
      }
      if (selected == nullptr) {
        std::string kept = instances.empty() ? std::string("none")
                                             : std::to_string(instances.front()->id) + " to " +
                                                   std::to_string(instances.back()->id);
        return grpc::Status(StatusCode::NOT_FOUND,
                            "unit " + quoted(unit->name()) + " has no instance " +
                                std::to_string(request.instance_id()) + " (kept: " + kept + ")");
      }
      break;
    default:
      selected = latestInstance(*unit);
      break;
  }

  bool want_stdout = request.streams().empty();
  bool want_stderr = request.streams().empty();
  for (const int stream : request.streams()) {
    want_stdout = want_stdout || stream == v1::OUTPUT_STREAM_STDOUT;
    want_stderr = want_stderr || stream == v1::OUTPUT_STREAM_STDERR;
  }
  const bool selected_ended = selected != nullptr && ended(*selected);
  if (selected != nullptr) {
    if (want_stdout) {
      pushKept(*outbox, *selected, v1::OUTPUT_STREAM_STDOUT, selected->stdout_tail,
               request.tail_bytes());
    }
    if (want_stderr) {
      pushKept(*outbox, *selected, v1::OUTPUT_STREAM_STDERR, selected->stderr_tail,
               request.tail_bytes());
    }
    if (request.follow() && selected_ended) {
      v1::ReadOutputResponse end;
      end.set_instance_id(selected->id);
      end.set_instance_ended(true);
      outbox->push(std::move(end), 0);
    }
  }
  if (request.follow()) {
    OutputHub::Follower follower;
    follower.outbox = outbox;
    follower.first_instance = selected != nullptr ? selected->id : 0;
    follower.want_stdout = want_stdout;
    follower.want_stderr = want_stderr;
    follower.ended_through = selected_ended ? selected->id : 0;
    deps_.output.follow(unit->name(), std::move(follower));
  }
  return grpc::Status::OK;
}

void LoopBackend::publishEvents(const std::vector<v1::Event>& events) {
  if (deps_.events != nullptr) {
    deps_.events->publishEvents(events);
  }
  std::set<std::string> stopped;
  for (const v1::Event& event : events) {
    if (event.has_instance_exited()) {
      deps_.output.instanceEnded(event.instance_exited().unit(),
                                 event.instance_exited().instance().id());
    } else if (event.has_unit_state_changed() &&
               event.unit_state_changed().new_state() == v1::UNIT_STATE_STOPPED) {
      stopped.insert(event.unit_state_changed().unit());
    }
  }
  if (shutting_down_) {
    return;
  }
  for (const std::string& name : stopped) {
    finishRestarts(name);
  }
}

}  // namespace vigie
