// Black-box tests of the gRPC API: a real gRPC client on the unix socket of a real vigied. Every
// RPC; a workload crash seen in WatchEvents and in the next Heartbeat diff; idle diffs that are
// only the version; a new epoch after an agent restart; a broken ReloadConfig that changes
// nothing; ReadOutput of a previous instance and following across a restart; and a SIGTERM with
// streams open.
#include <signal.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/api_calls.h"
#include "tests/integration/harness.h"
#include "tests/integration/text_checks.h"
#include "vigie/v1/agent.grpc.pb.h"

namespace vigie::testing {
namespace {

// vigied with the standard command line, logging to stderr, and a client on its socket.
class Agent {
 public:
  Agent(const TempDir& dir, const std::string& config)
      : vigied(dir, options(dir, config)), socket(dir.file("vigie.sock")) {
    stub = v1::Agent::NewStub(
        grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()));
    REQUIRE_MESSAGE(pollUntil([&] {
                      v1::GetNodeResponse node;
                      return stub->GetNode(callContext(1s).get(), {}, &node).ok();
                    }),
                    vigied.stderrText());
  }

  static DaemonProcess::Options options(const TempDir& dir, const std::string& config) {
    std::vector<std::string> args = daemonArgs(dir, config);
    args.insert(args.end(), {"--log-target", "stderr"});
    return {.args = args};
  }

  std::optional<v1::Unit> unit(const std::string& name) { return getUnit(*stub, name); }

  bool running(const std::string& name) {
    const auto found = unit(name);
    return found && found->state() == v1::UNIT_STATE_RUNNING && found->pid() > 0;
  }

  v1::HeartbeatResponse heartbeat(const std::optional<v1::StateVersion>& since = std::nullopt) {
    v1::HeartbeatRequest request;
    if (since) {
      *request.mutable_since() = *since;
    }
    v1::HeartbeatResponse response;
    const grpc::Status status = stub->Heartbeat(callContext().get(), request, &response);
    REQUIRE_MESSAGE(status.ok(), status.error_message());
    return response;
  }

  DaemonProcess vigied;
  std::string socket;
  std::unique_ptr<v1::Agent::Stub> stub;
};

// A workload that waits for a signal, appending its pid to `pidfile` first.
std::string waiter(const std::string& name, const std::string& pidfile) {
  return "  - name: " + name + "\n" + helperExec({"pidfile", pidfile}) +
         "    stop: {timeout: 5s}\n";
}

// An exec line for /bin/sh -c SCRIPT (SCRIPT without double quotes or backslashes).
std::string shellExec(const std::string& script) {
  return "    exec: [\"/bin/sh\", \"-c\", \"" + script + "\"]\n";
}

// A WatchEvents stream, subscribed once constructed.
class EventWatch {
 public:
  explicit EventWatch(v1::Agent::Stub& stub, std::vector<std::string> units = {})
      : context_(callContext(60s)) {
    v1::WatchEventsRequest request;
    for (const auto& unit : units) {
      request.add_units(unit);
    }
    reader_ = stub.WatchEvents(context_.get(), request);
    reader_->WaitForInitialMetadata();
  }
  ~EventWatch() {
    if (!finished_) {
      context_->TryCancel();
      finish();
    }
  }

  // Reads until an event satisfies `pred`; every event read is kept.
  std::optional<v1::Event> next(const std::function<bool(const v1::Event&)>& pred) {
    v1::WatchEventsResponse response;
    while (reader_->Read(&response)) {
      seen.push_back(response.event());
      if (pred(response.event())) {
        return response.event();
      }
    }
    return std::nullopt;
  }
  // Reads to the end of the stream; returns its status.
  grpc::Status finish() {
    next([](const v1::Event&) { return false; });
    finished_ = true;
    return reader_->Finish();
  }
  std::string trail() const {
    std::string out;
    for (const auto& event : seen) {
      out += event.ShortDebugString() + "\n";
    }
    return out;
  }

  std::vector<v1::Event> seen;

 private:
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReader<v1::WatchEventsResponse>> reader_;
  bool finished_ = false;
};

struct Output {
  std::vector<v1::ReadOutputResponse> chunks;
  grpc::Status status;

  std::string text(v1::OutputStream stream) const {
    std::string all;
    for (const auto& chunk : chunks) {
      if (chunk.stream() == stream) {
        all += chunk.data();
      }
    }
    return all;
  }
};

Output readOutput(v1::Agent::Stub& stub, const v1::ReadOutputRequest& request) {
  auto context = callContext();
  auto reader = stub.ReadOutput(context.get(), request);
  Output output;
  v1::ReadOutputResponse chunk;
  while (reader->Read(&chunk)) {
    output.chunks.push_back(chunk);
  }
  output.status = reader->Finish();
  return output;
}

v1::ReadOutputRequest outputOf(const std::string& unit, v1::InstanceSelector selector,
                               uint64_t id = 0) {
  v1::ReadOutputRequest request;
  request.set_unit(unit);
  request.set_instance(selector);
  request.set_instance_id(id);
  return request;
}

pid_t onlyPid(const std::string& pidfile) {
  const std::vector<pid_t> pids = readPids(pidfile);
  return pids.size() == 1 ? pids.front() : 0;
}

TEST_CASE("api: reads against a real vigied, and an idle heartbeat is only the version") {
  TempDir dir;
  const std::string config = dir.file("vigie.yaml");
  writeFile(config, "workloads:\n" + waiter("web", dir.file("web.pids")) +
                        waiter("db", dir.file("db.pids")));
  Agent agent(dir, config);
  REQUIRE_MESSAGE(pollUntil([&] { return agent.running("web") && agent.running("db"); }),
                  agent.vigied.stderrText());

  v1::GetNodeResponse node;
  REQUIRE(agent.stub->GetNode(callContext().get(), {}, &node).ok());
  char hostname[256] = {};
  ::gethostname(hostname, sizeof(hostname) - 1);
  CHECK(node.node().hostname() == hostname);
  CHECK(node.node().boot_id() == readLines("/proc/sys/kernel/random/boot_id").at(0));
  CHECK_FALSE(node.node().kernel_release().empty());
  CHECK(node.node().cpu_count() > 0);
  CHECK(node.node().memory_total_bytes() > 0);
  CHECK_FALSE(node.node().agent_version().empty());
  CHECK(node.node().agent_epoch() != 0);
  CHECK(node.node().cgroup_layout() != v1::CGROUP_LAYOUT_UNSPECIFIED);
  CHECK(node.usage().uptime().seconds() > 0);
  CHECK(node.usage().memory().total_bytes() > 0);

  v1::ListUnitsResponse units;
  REQUIRE(agent.stub->ListUnits(callContext().get(), {}, &units).ok());
  REQUIRE(units.units_size() == 2);
  CHECK(units.units(0).name() == "web");
  CHECK(units.units(1).name() == "db");
  CHECK(units.version().epoch() == node.node().agent_epoch());

  v1::GetUnitRequest get;
  get.set_name("web");
  v1::GetUnitResponse web;
  REQUIRE(agent.stub->GetUnit(callContext().get(), get, &web).ok());
  CHECK(web.unit().pid() == onlyPid(dir.file("web.pids")));
  REQUIRE(web.unit().instances_size() == 1);
  CHECK(web.unit().instances(0).id() == 1);
  CHECK(web.config().source().file() == config);
  CHECK(web.config().source().line() == 2);
  CHECK(web.config().exec(0) == helperPath());

  get.set_name("wbe");
  const grpc::Status unknown = agent.stub->GetUnit(callContext().get(), get, &web);
  CHECK(unknown.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(unknown.error_message() == "no unit named \"wbe\" (did you mean \"web\"?)");

  const v1::HeartbeatResponse first = agent.heartbeat();
  CHECK(first.full_state());
  CHECK(first.full_state_reason() == v1::FULL_STATE_REASON_NEW_EPOCH);
  CHECK(first.units_size() == 2);
  CHECK(first.version().epoch() == node.node().agent_epoch());
  const v1::HeartbeatResponse idle = agent.heartbeat(first.version());
  CHECK_FALSE(idle.full_state());
  CHECK(idle.units_size() == 0);
  CHECK(idle.removed_units_size() == 0);
  CHECK(idle.version().revision() == first.version().revision());
  v1::HeartbeatResponse only_version;
  *only_version.mutable_version() = first.version();
  CHECK(idle.SerializeAsString() == only_version.SerializeAsString());
  MESSAGE("idle heartbeat: " << idle.ByteSizeLong() << " bytes; full state of 2 units: "
                             << first.ByteSizeLong() << " bytes");

  v1::HeartbeatRequest with_usage;
  *with_usage.mutable_since() = first.version();
  with_usage.set_with_usage(true);
  v1::HeartbeatResponse usage;
  REQUIRE(agent.stub->Heartbeat(callContext().get(), with_usage, &usage).ok());
  CHECK(usage.units_size() == 0);
  CHECK(usage.usage().load().load15() >= 0);
  CHECK(usage.usage().has_memory());
}

TEST_CASE("api: a workload crash shows up in WatchEvents and in the next Heartbeat diff") {
  TempDir dir;
  const std::string config = dir.file("vigie.yaml");
  const std::string go = dir.file("go");
  // The crasher waits for the test's go, then dies of SIGSEGV (test_workload segv); once the go
  // exists, every instance crashes at once: the first restart is immediate, the second waits.
  writeFile(config, "workloads:\n" + waiter("steady", dir.file("steady.pids")) +
                        "  - name: crasher\n" +
                        shellExec("while [ ! -e " + go + " ]; do sleep 0.02; done; exec " +
                                  helperPath() + " segv") +
                        "    restart: {backoff: {initial: 30s, max: 60s}}\n");
  Agent agent(dir, config);
  REQUIRE_MESSAGE(pollUntil([&] { return agent.running("steady") && agent.running("crasher"); }),
                  agent.vigied.stderrText());
  const v1::HeartbeatResponse before = agent.heartbeat();
  EventWatch watch(*agent.stub);

  writeFile(go, "go\n");
  const auto first_exit = watch.next([](const v1::Event& e) { return e.has_instance_exited(); });
  REQUIRE_MESSAGE(first_exit.has_value(), watch.trail() << agent.vigied.stderrText());
  const v1::InstanceExited& crash = first_exit->instance_exited();
  CHECK(crash.unit() == "crasher");
  CHECK(crash.instance().id() == 1);
  CHECK(crash.instance().exit().signal() == SIGSEGV);
  CHECK((crash.instance().exit().kind() == v1::EXIT_KIND_KILLED ||
         crash.instance().exit().kind() == v1::EXIT_KIND_DUMPED));
  CHECK(contains(crash.instance().exit().description(), "SIGSEGV"));
  CHECK(crash.restart() == v1::RESTART_ACTION_NOW);
  CHECK(first_exit->version().epoch() == before.version().epoch());
  CHECK(first_exit->version().revision() > before.version().revision());

  const auto second_exit = watch.next([](const v1::Event& e) { return e.has_instance_exited(); });
  REQUIRE_MESSAGE(second_exit.has_value(), watch.trail());
  CHECK(second_exit->instance_exited().instance().id() == 2);
  CHECK(second_exit->instance_exited().restart() == v1::RESTART_ACTION_LATER);
  const int64_t delay = second_exit->instance_exited().restart_delay().seconds();
  CHECK(delay >= 26);  // 30s minus at most 10% of jitter
  CHECK(delay <= 30);
  const auto backing_off = watch.next([](const v1::Event& e) {
    return e.has_unit_state_changed() &&
           e.unit_state_changed().new_state() == v1::UNIT_STATE_BACKING_OFF;
  });
  REQUIRE_MESSAGE(backing_off.has_value(), watch.trail());
  CHECK(backing_off->unit_state_changed().has_next_start_time());
  // Instance 2's start was announced between the two exits.
  bool started_two = false;
  for (const auto& event : watch.seen) {
    started_two = started_two ||
                  (event.has_instance_started() && event.instance_started().unit() == "crasher" &&
                   event.instance_started().instance_id() == 2);
  }
  CHECK(started_two);

  // The next poll's diff: the crasher only, backing off, its crashes in its instances.
  const v1::HeartbeatResponse diff = agent.heartbeat(before.version());
  CHECK_FALSE(diff.full_state());
  REQUIRE(diff.units_size() == 1);
  const v1::Unit& crasher = diff.units(0);
  CHECK(crasher.name() == "crasher");
  CHECK(crasher.state() == v1::UNIT_STATE_BACKING_OFF);
  CHECK(crasher.has_next_start_time());
  CHECK(crasher.total_restarts() == 1);
  REQUIRE(crasher.instances_size() == 2);
  CHECK(crasher.instances(1).exit().signal() == SIGSEGV);
  CHECK(crasher.revision() > before.version().revision());
  CHECK(diff.version().revision() >= second_exit->version().revision());
  // The two crashes' incident records are written by a worker thread after the exits, and each
  // shows up once it is on disk, in a revision of its own. Once both are there, nothing moves
  // while the unit backs off.
  v1::HeartbeatResponse settled;
  REQUIRE_MESSAGE(pollUntil([&] {
                    settled = agent.heartbeat(before.version());
                    return settled.crashes_size() == 2;
                  }),
                  settled.DebugString());
  CHECK(settled.version().revision() >= diff.version().revision());
  const v1::HeartbeatResponse idle = agent.heartbeat(settled.version());
  CHECK(idle.units_size() == 0);
  CHECK(idle.crashes_size() == 0);
  CHECK(idle.version().revision() == settled.version().revision());
}

TEST_CASE("api: StartUnit, StopUnit, RestartUnit and SignalUnit act on a real unit") {
  TempDir dir;
  const std::string config = dir.file("vigie.yaml");
  const std::string pids = dir.file("web.pids");
  writeFile(config, "workloads:\n" + waiter("web", pids));
  Agent agent(dir, config);
  REQUIRE_MESSAGE(pollUntil([&] { return agent.running("web"); }), agent.vigied.stderrText());
  const pid_t first = onlyPid(pids);
  REQUIRE(first > 0);

  v1::StopUnitRequest stop;
  stop.set_name("web");
  v1::StopUnitResponse stopped;
  REQUIRE(agent.stub->StopUnit(callContext().get(), stop, &stopped).ok());
  CHECK(stopped.unit().stopped_by_operator());
  CHECK((stopped.unit().state() == v1::UNIT_STATE_STOPPING ||
         stopped.unit().state() == v1::UNIT_STATE_STOPPED));
  REQUIRE(pollUntil([&] { return agent.unit("web")->state() == v1::UNIT_STATE_STOPPED; }));
  CHECK_FALSE(processAlive(first));
  REQUIRE(agent.stub->StopUnit(callContext().get(), stop, &stopped).ok());  // idempotent
  CHECK(stopped.unit().state() == v1::UNIT_STATE_STOPPED);

  v1::SignalUnitRequest signal;
  signal.set_name("web");
  signal.set_signal(SIGUSR1);
  v1::SignalUnitResponse signalled;
  grpc::Status status = agent.stub->SignalUnit(callContext().get(), signal, &signalled);
  CHECK(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(status.error_message() == "unit \"web\" has no running instance (it is stopped)");

  v1::StartUnitRequest start;
  start.set_name("web");
  v1::StartUnitResponse started;
  REQUIRE(agent.stub->StartUnit(callContext().get(), start, &started).ok());
  CHECK(started.unit().state() == v1::UNIT_STATE_RUNNING);
  CHECK_FALSE(started.unit().stopped_by_operator());
  const pid_t second = started.unit().pid();
  CHECK(second > 0);
  CHECK(started.unit().instances(started.unit().instances_size() - 1).id() == 2);

  // A restart is answered once the new instance runs.
  v1::RestartUnitRequest restart;
  restart.set_name("web");
  v1::RestartUnitResponse restarted;
  REQUIRE(agent.stub->RestartUnit(callContext().get(), restart, &restarted).ok());
  CHECK(restarted.unit().state() == v1::UNIT_STATE_RUNNING);
  const pid_t third = restarted.unit().pid();
  CHECK(third > 0);
  CHECK(third != second);
  CHECK(restarted.unit().instances(restarted.unit().instances_size() - 1).id() == 3);
  CHECK_FALSE(processAlive(second));

  // A signal to the running instance: SIGTERM ends it, and the policy restarts it.
  signal.set_signal(SIGTERM);
  REQUIRE(agent.stub->SignalUnit(callContext().get(), signal, &signalled).ok());
  REQUIRE_MESSAGE(pollUntil([&] {
                    const auto web = agent.unit("web");
                    return web && web->instances_size() >= 2 &&
                           web->instances(web->instances_size() - 1).id() == 4 &&
                           web->state() == v1::UNIT_STATE_RUNNING;
                  }),
                  agent.vigied.stderrText());
  const auto web = agent.unit("web");
  CHECK(web->instances(web->instances_size() - 2).exit().signal() == SIGTERM);
  CHECK(contains(agent.vigied.stderrText(), "web: SIGTERM sent to instance 3 through the API"));

  signal.set_signal(0);
  CHECK(agent.stub->SignalUnit(callContext().get(), signal, &signalled).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  start.set_name("nope");
  status = agent.stub->StartUnit(callContext().get(), start, &started);
  CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(status.error_message() == "no unit named \"nope\"; units: web");
}

TEST_CASE("api: ReloadConfig with a broken config returns errors and changes nothing") {
  TempDir dir;
  const std::string config = dir.file("vigie.yaml");
  const std::string good = "workloads:\n" + waiter("web", dir.file("web.pids"));
  writeFile(config, good);
  Agent agent(dir, config);
  REQUIRE_MESSAGE(pollUntil([&] { return agent.running("web"); }), agent.vigied.stderrText());
  const pid_t web_pid = onlyPid(dir.file("web.pids"));
  const v1::HeartbeatResponse before = agent.heartbeat();
  EventWatch watch(*agent.stub);

  writeFile(config, good + "    bogus: 1\n");  // line 5, column 5
  v1::ReloadConfigResponse rejected;
  REQUIRE(agent.stub->ReloadConfig(callContext().get(), {}, &rejected).ok());
  CHECK_FALSE(rejected.applied());
  REQUIRE(rejected.errors_size() == 1);
  CHECK(rejected.errors(0).location().file() == config);
  CHECK(rejected.errors(0).location().line() == 5);
  CHECK(rejected.errors(0).location().column() == 5);
  CHECK(contains(rejected.errors(0).message(), "bogus"));
  CHECK_FALSE(rejected.has_summary());
  const auto rejected_event =
      watch.next([](const v1::Event& e) { return e.has_config_reloaded(); });
  REQUIRE(rejected_event.has_value());
  CHECK_FALSE(rejected_event->config_reloaded().applied());
  CHECK(rejected_event->config_reloaded().error_count() == 1);
  // Nothing changed: the diff is only the version, and the workload still runs.
  const v1::HeartbeatResponse unchanged = agent.heartbeat(before.version());
  CHECK(unchanged.units_size() == 0);
  CHECK(unchanged.version().revision() == before.version().revision());
  CHECK(processAlive(web_pid));

  writeFile(config, good + waiter("extra", dir.file("extra.pids")));
  v1::ReloadConfigResponse applied;
  REQUIRE(agent.stub->ReloadConfig(callContext().get(), {}, &applied).ok());
  CHECK(applied.applied());
  CHECK(applied.errors_size() == 0);
  REQUIRE(applied.summary().added_size() == 1);
  CHECK(applied.summary().added(0) == "extra");
  CHECK(applied.summary().unchanged(0) == "web");
  const auto applied_event = watch.next([](const v1::Event& e) { return e.has_config_reloaded(); });
  REQUIRE(applied_event.has_value());
  CHECK(applied_event->config_reloaded().summary().added(0) == "extra");
  // The reply comes after the publish: the next poll has the new unit.
  const v1::HeartbeatResponse added = agent.heartbeat(before.version());
  REQUIRE(added.units_size() == 1);
  CHECK(added.units(0).name() == "extra");

  // Reloading the same config again changes nothing (idempotent).
  REQUIRE(agent.stub->ReloadConfig(callContext().get(), {}, &applied).ok());
  CHECK(agent.heartbeat(added.version()).units_size() == 0);

  // A removed unit leaves a tombstone in the diff.
  writeFile(config, good);
  REQUIRE(agent.stub->ReloadConfig(callContext().get(), {}, &applied).ok());
  CHECK(applied.summary().removed(0) == "extra");
  const v1::HeartbeatResponse removed = agent.heartbeat(added.version());
  REQUIRE(removed.removed_units_size() == 1);
  CHECK(removed.removed_units(0).name() == "extra");
  CHECK(processAlive(web_pid));
}

TEST_CASE("api: ReadOutput reads a previous instance and follows across a restart") {
  TempDir dir;
  const std::string config = dir.file("vigie.yaml");
  const std::string pids = dir.file("talker.pids");
  writeFile(config, "workloads:\n  - name: talker\n" +
                        shellExec("echo out-$$; echo err-$$ >&2; exec " + helperPath() +
                                  " pidfile " + pids) +
                        "    stop: {timeout: 5s}\n");
  Agent agent(dir, config);
  REQUIRE_MESSAGE(pollUntil([&] { return onlyPid(pids) > 0; }), agent.vigied.stderrText());
  const std::string first = std::to_string(onlyPid(pids));
  Output current;
  REQUIRE(pollUntil([&] {
    current = readOutput(*agent.stub, outputOf("talker", v1::INSTANCE_SELECTOR_CURRENT));
    return current.text(v1::OUTPUT_STREAM_STDERR) == "err-" + first + "\n";
  }));
  CHECK(current.status.ok());
  CHECK(current.text(v1::OUTPUT_STREAM_STDOUT) == "out-" + first + "\n");
  CHECK(current.chunks.at(0).instance_id() == 1);

  const Output none = readOutput(*agent.stub, outputOf("talker", v1::INSTANCE_SELECTOR_PREVIOUS));
  CHECK(none.status.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(none.status.error_message() ==
        "unit \"talker\" has no previous instance: only instance 1 is kept");
  const Output unknown = readOutput(*agent.stub, outputOf("talk", v1::INSTANCE_SELECTOR_CURRENT));
  CHECK(unknown.status.error_code() == grpc::StatusCode::NOT_FOUND);

  // Follow: the tail, then the restart's instance end and the new instance's output.
  auto follow_context = callContext(60s);
  v1::ReadOutputRequest follow = outputOf("talker", v1::INSTANCE_SELECTOR_CURRENT);
  follow.set_follow(true);
  auto reader = agent.stub->ReadOutput(follow_context.get(), follow);
  Output followed;
  v1::ReadOutputResponse chunk;
  while (followed.chunks.size() < 2 && reader->Read(&chunk)) {
    followed.chunks.push_back(chunk);
  }
  CHECK(followed.text(v1::OUTPUT_STREAM_STDOUT) == "out-" + first + "\n");

  v1::RestartUnitRequest restart;
  restart.set_name("talker");
  v1::RestartUnitResponse restarted;
  REQUIRE(agent.stub->RestartUnit(callContext().get(), restart, &restarted).ok());
  const std::string second = std::to_string(restarted.unit().pid());
  bool ended_first = false;
  while ((!ended_first || !contains(followed.text(v1::OUTPUT_STREAM_STDERR), "err-" + second) ||
          !contains(followed.text(v1::OUTPUT_STREAM_STDOUT), "out-" + second)) &&
         reader->Read(&chunk)) {
    followed.chunks.push_back(chunk);
    if (chunk.instance_ended()) {
      CHECK(chunk.instance_id() == 1);
      // Instance 1's output was all sent before its end.
      CHECK_FALSE(contains(followed.text(v1::OUTPUT_STREAM_STDOUT), "out-" + second));
      ended_first = true;
    }
  }
  CHECK(ended_first);
  CHECK(followed.text(v1::OUTPUT_STREAM_STDOUT) == "out-" + first + "\nout-" + second + "\n");
  CHECK(followed.text(v1::OUTPUT_STREAM_STDERR) == "err-" + first + "\nerr-" + second + "\n");
  CHECK(followed.chunks.back().instance_id() == 2);
  follow_context->TryCancel();
  while (reader->Read(&chunk)) {
  }
  CHECK(reader->Finish().error_code() == grpc::StatusCode::CANCELLED);

  const Output previous =
      readOutput(*agent.stub, outputOf("talker", v1::INSTANCE_SELECTOR_PREVIOUS));
  REQUIRE(previous.status.ok());
  CHECK(previous.text(v1::OUTPUT_STREAM_STDOUT) == "out-" + first + "\n");
  CHECK(previous.chunks.at(0).instance_id() == 1);
  v1::ReadOutputRequest by_id = outputOf("talker", v1::INSTANCE_SELECTOR_ID, 2);
  by_id.add_streams(v1::OUTPUT_STREAM_STDERR);
  by_id.set_tail_bytes(4);
  const Output tail = readOutput(*agent.stub, by_id);
  REQUIRE(tail.status.ok());
  REQUIRE(tail.chunks.size() == 1);
  CHECK(tail.chunks[0].data() == second.substr(second.size() - 3) + "\n");
}

TEST_CASE("api: a new epoch after an agent restart forces a full state") {
  TempDir dir;
  const std::string config = dir.file("vigie.yaml");
  writeFile(config, "workloads:\n" + waiter("web", dir.file("web.pids")));
  v1::StateVersion last;
  {
    Agent agent(dir, config);
    REQUIRE(pollUntil([&] { return agent.running("web"); }));
    last = agent.heartbeat().version();
    CHECK_FALSE(agent.heartbeat(last).full_state());
    REQUIRE(::kill(agent.vigied.pid(), SIGTERM) == 0);
    REQUIRE_MESSAGE(agent.vigied.waitExit(), agent.vigied.stderrText());
    CHECK(agent.vigied.exitCode() == 0);
  }
  Agent again(dir, config);
  const v1::HeartbeatResponse after = again.heartbeat(last);
  CHECK(after.full_state());
  CHECK(after.full_state_reason() == v1::FULL_STATE_REASON_NEW_EPOCH);
  CHECK(after.version().epoch() != last.epoch());
  CHECK(after.units_size() == 1);
  // A revision from the future of this epoch is answered with the full state too.
  v1::StateVersion ahead = after.version();
  ahead.set_revision(ahead.revision() + 100);
  const v1::HeartbeatResponse from_ahead = again.heartbeat(ahead);
  CHECK(from_ahead.full_state());
  CHECK(from_ahead.full_state_reason() == v1::FULL_STATE_REASON_AHEAD);
}

TEST_CASE("api: SIGTERM with streams open stops the units, ends the streams, and exits 0") {
  TempDir dir;
  const std::string config = dir.file("vigie.yaml");
  const std::string pids = dir.file("web.pids");
  writeFile(config, "workloads:\n" + waiter("web", pids));
  Agent agent(dir, config);
  REQUIRE(pollUntil([&] { return agent.running("web"); }));
  const pid_t web = onlyPid(pids);
  EventWatch watch(*agent.stub);
  auto follow_context = callContext(60s);
  v1::ReadOutputRequest follow = outputOf("web", v1::INSTANCE_SELECTOR_CURRENT);
  follow.set_follow(true);
  auto output = agent.stub->ReadOutput(follow_context.get(), follow);
  output->WaitForInitialMetadata();  // following

  REQUIRE(::kill(agent.vigied.pid(), SIGTERM) == 0);
  // The last events (the unit's stop) reach the watcher before its stream ends.
  const auto stopped = watch.next([](const v1::Event& e) {
    return e.has_unit_state_changed() &&
           e.unit_state_changed().new_state() == v1::UNIT_STATE_STOPPED;
  });
  CHECK_MESSAGE(stopped.has_value(), watch.trail());
  const grpc::Status watch_end = watch.finish();
  CHECK(watch_end.error_code() == grpc::StatusCode::UNAVAILABLE);
  v1::ReadOutputResponse chunk;
  bool ended = false;
  while (output->Read(&chunk)) {
    ended = ended || chunk.instance_ended();
  }
  CHECK(ended);
  CHECK(output->Finish().error_code() == grpc::StatusCode::UNAVAILABLE);
  REQUIRE_MESSAGE(agent.vigied.waitExit(), agent.vigied.stderrText());
  CHECK(agent.vigied.exitCode() == 0);
  CHECK_FALSE(processAlive(web));
  CHECK(contains(agent.vigied.stderrText(), "vigied stopped"));
}

TEST_CASE("api: vigied refuses to start when its socket cannot be bound, before any unit runs") {
  TempDir dir;
  const std::string config = dir.file("vigie.yaml");
  const std::string pids = dir.file("web.pids");
  writeFile(config, "workloads:\n" + waiter("web", pids));
  writeFile(dir.file("not-a-dir"), "a file\n");
  std::vector<std::string> args = Agent::options(dir, config).args;
  const auto socket_flag = std::find(args.begin(), args.end(), "--socket");
  REQUIRE(socket_flag != args.end());
  *(socket_flag + 1) = dir.file("not-a-dir") + "/vigie.sock";  // its parent is a file
  DaemonProcess vigied(dir, {.args = args});
  REQUIRE(vigied.waitExit());
  CHECK(vigied.exitCode() == 1);
  CHECK_MESSAGE(contains(vigied.stderrText(), "cannot serve the API on " + dir.file("not-a-dir")),
                vigied.stderrText());
  CHECK(readPids(pids).empty());
}

}  // namespace
}  // namespace vigie::testing
