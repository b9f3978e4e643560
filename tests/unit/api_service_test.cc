// The gRPC service on an in-process channel: a real server, real stubs, a real event loop on its
// own thread, the real SnapshotPublisher and hubs, and a fake backend in place of the
// supervisor. Every RPC's happy path and errors, access refusals, the stream limit, the slow
// consumer's cut-off, and shutdown with calls and streams still open.
#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "agent/api/service/agent_service.h"
#include "agent/api/service/unit_names.h"
#include "agent/event/event_loop.h"
#include "vigie/v1/agent.grpc.pb.h"

namespace vigie {
namespace {

using std::chrono::seconds;

// Generous: a noisy 2-core machine must not turn a slow run into a failure.
constexpr auto kDeadline = seconds(30);

bool eventually(const std::function<bool()>& condition) {
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

class TestAccess final : public AccessPolicy {
 public:
  grpc::Status check(const grpc::ServerContextBase&, ApiRole needed,
                     std::string_view method) const override {
    checked.fetch_add(1);
    if (deny_all || (read_only && needed == ApiRole::kAdmin)) {
      return grpc::Status(
          grpc::StatusCode::PERMISSION_DENIED,
          "client \"test\" has the read role; " + std::string(method) + " needs admin");
    }
    return grpc::Status::OK;
  }
  std::atomic<bool> deny_all{false};
  std::atomic<bool> read_only{false};
  mutable std::atomic<int> checked{0};
};

class TestRecorder final : public ApiCallRecorder {
 public:
  void record(std::string_view method, grpc::StatusCode code) override {
    std::lock_guard<std::mutex> lock(mutex);
    ++calls[std::string(method) + ":" + std::to_string(static_cast<int>(code))];
  }
  void streamCutOff(std::string_view method) override {
    std::lock_guard<std::mutex> lock(mutex);
    ++cut_offs[std::string(method)];
  }
  int count(const std::string& method, grpc::StatusCode code) {
    std::lock_guard<std::mutex> lock(mutex);
    return calls[method + ":" + std::to_string(static_cast<int>(code))];
  }
  int cutOffs(const std::string& method) {
    std::lock_guard<std::mutex> lock(mutex);
    return cut_offs[method];
  }
  std::mutex mutex;
  std::map<std::string, int> calls;
  std::map<std::string, int> cut_offs;
};

class FixedUsage final : public UsageSource {
 public:
  UsageSample sample() override {
    UsageSample sample;
    sample.uptime = seconds(1234);
    sample.load = LoadSample{0.5, 0.25, 0.125};
    return sample;
  }
};

// Runs on the loop thread only, like the real backend.
class FakeBackend final : public AgentBackend {
 public:
  explicit FakeBackend(std::thread::id* loop_thread) : loop_thread_(loop_thread) {}

  void unitCommand(UnitCommand command, const std::string& name, UnitDone done) override {
    onLoop();
    commands.push_back(name);
    if (name != "web") {
      done(UnitReply{grpc::Status(grpc::StatusCode::NOT_FOUND, unknownUnitMessage(name, {"web"})),
                     {}});
      return;
    }
    v1::Unit unit;
    unit.set_name(name);
    unit.set_state(command == UnitCommand::kStop ? v1::UNIT_STATE_STOPPING
                                                 : v1::UNIT_STATE_RUNNING);
    if (command == UnitCommand::kRestart && hold_restarts) {
      held_restarts.push_back([done, unit] { done(UnitReply{grpc::Status::OK, unit}); });
      return;
    }
    done(UnitReply{grpc::Status::OK, unit});
  }

  grpc::Status signalUnit(const std::string& name, int signal, bool process_group) override {
    onLoop();
    signals.push_back(name + ":" + std::to_string(signal) + (process_group ? ":group" : ""));
    if (name == "stopped") {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "no running instance");
    }
    return grpc::Status::OK;
  }

  grpc::Status reloadConfig(v1::ReloadConfigResponse* response) override {
    onLoop();
    if (broken_config) {
      response->set_applied(false);
      v1::ConfigError* error = response->add_errors();
      error->mutable_location()->set_file("/etc/vigie/vigie.yaml");
      error->mutable_location()->set_line(7);
      error->set_message("unknown key \"exce\"");
    } else {
      response->set_applied(true);
      response->mutable_summary()->add_added("new");
    }
    return grpc::Status::OK;
  }

  grpc::Status readOutput(const v1::ReadOutputRequest& request,
                          const std::shared_ptr<OutputOutbox>& outbox) override {
    onLoop();
    if (request.unit() != "web") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, unknownUnitMessage(request.unit(), {"web"}));
    }
    if (request.instance() == v1::INSTANCE_SELECTOR_PREVIOUS) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "unit \"web\" has no previous instance");
    }
    pushTail(*outbox, 1, v1::OUTPUT_STREAM_STDOUT, std::string(100 * 1024, 'x'), 7);
    if (request.follow()) {
      output.follow("web", OutputHub::Follower{outbox, 1, true, true, 0});
    }
    return grpc::Status::OK;
  }

  std::vector<std::string> commands;
  std::vector<std::string> signals;
  std::vector<std::function<void()>> held_restarts;
  bool hold_restarts = false;
  bool broken_config = false;
  bool wrong_thread = false;
  OutputHub output;

 private:
  void onLoop() {
    if (std::this_thread::get_id() != *loop_thread_) {
      wrong_thread = true;
    }
  }
  std::thread::id* loop_thread_;
};

UnitView view(const std::string& name, UnitState state) {
  UnitView view;
  view.name = name;
  view.state = state;
  view.pid = 100;
  for (uint64_t id = 1; id <= 3; ++id) {
    InstanceView instance;
    instance.id = id;
    instance.pid = static_cast<pid_t>(99 + id);
    view.instances.push_back(instance);
  }
  view.config.exec = {"/usr/bin/" + name};
  view.config.file = "/etc/vigie/vigie.yaml";
  view.config.line = 3;
  return view;
}

struct Fixture {
  explicit Fixture(ApiLimitsSpec limits = {})
      : loop(EventLoop::create().value()),
        backend(&loop_thread_id),
        events(limits.event_queue, &recorder),
        service(AgentService::Deps{publisher, *loop, backend, events, access, &recorder, &usage},
                nodeInfo(), limits) {
    loop_thread = std::thread([this] {
      loop_thread_id = std::this_thread::get_id();
      started.set_value();
      loop->run();
    });
    started.get_future().wait();
    grpc::ServerBuilder builder;
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
    REQUIRE(server != nullptr);
    stub = v1::Agent::NewStub(server->InProcessChannel(grpc::ChannelArguments()));
  }

  ~Fixture() {
    service.shutdown();
    server->Shutdown(std::chrono::system_clock::now() + kDeadline);
    server->Wait();
    loop->post([this] { loop->exit(); });
    loop_thread.join();
  }

  static v1::NodeInfo nodeInfo() {
    v1::NodeInfo node;
    node.set_hostname("node-1");
    node.set_agent_epoch(0xabc);
    return node;
  }

  void publish(std::vector<UnitView> views) { publisher.publish(std::move(views), ClockMapping{}); }

  // Runs `work` on the loop thread and waits for it.
  void onLoop(std::function<void()> work) {
    std::promise<void> done;
    loop->post([&] {
      work();
      done.set_value();
    });
    done.get_future().wait();
  }

  std::unique_ptr<grpc::ClientContext> context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + kDeadline);
    return context;
  }

  std::unique_ptr<EventLoop> loop;
  std::thread loop_thread;
  std::thread::id loop_thread_id;
  std::promise<void> started;
  SnapshotPublisher publisher{0xabc};
  FakeBackend backend;
  TestRecorder recorder;
  EventHub events;
  TestAccess access;
  FixedUsage usage;
  AgentService service;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<v1::Agent::Stub> stub;
};

TEST_CASE("api service: reads come from the published snapshot") {
  Fixture f;
  f.publish({view("web", UnitState::kRunning), view("db", UnitState::kFailed)});

  SUBCASE("GetNode: the node and its usage") {
    v1::GetNodeResponse response;
    REQUIRE(f.stub->GetNode(f.context().get(), {}, &response).ok());
    CHECK(response.node().hostname() == "node-1");
    CHECK(response.usage().uptime().seconds() == 1234);
    CHECK(f.recorder.count("GetNode", grpc::StatusCode::OK) == 1);
  }
  SUBCASE("ListUnits: every unit with its latest two instances, and the version") {
    v1::ListUnitsResponse response;
    REQUIRE(f.stub->ListUnits(f.context().get(), {}, &response).ok());
    REQUIRE(response.units_size() == 2);
    CHECK(response.units(0).name() == "web");
    CHECK(response.units(1).state() == v1::UNIT_STATE_FAILED);
    CHECK(response.units(0).instances_size() == 2);
    CHECK(response.version().epoch() == 0xabc);
    CHECK(response.version().revision() == 1);
  }
  SUBCASE("GetUnit: every instance kept, and the config") {
    v1::GetUnitRequest request;
    request.set_name("web");
    v1::GetUnitResponse response;
    REQUIRE(f.stub->GetUnit(f.context().get(), request, &response).ok());
    CHECK(response.unit().instances_size() == 3);
    CHECK(response.config().exec(0) == "/usr/bin/web");
    CHECK(response.config().source().line() == 3);
    CHECK(response.version().revision() == 1);
  }
  SUBCASE("GetUnit: unknown and empty names") {
    v1::GetUnitRequest request;
    request.set_name("wbe");
    v1::GetUnitResponse response;
    grpc::Status status = f.stub->GetUnit(f.context().get(), request, &response);
    CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(status.error_message() == "no unit named \"wbe\" (did you mean \"web\"?)");
    request.set_name("");
    status = f.stub->GetUnit(f.context().get(), request, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(f.recorder.count("GetUnit", grpc::StatusCode::NOT_FOUND) == 1);
    CHECK(f.recorder.count("GetUnit", grpc::StatusCode::INVALID_ARGUMENT) == 1);
  }
  SUBCASE("Heartbeat: the full state first, then only the version while nothing changes") {
    v1::HeartbeatRequest request;
    request.set_with_usage(true);
    v1::HeartbeatResponse first;
    REQUIRE(f.stub->Heartbeat(f.context().get(), request, &first).ok());
    CHECK(first.full_state());
    CHECK(first.full_state_reason() == v1::FULL_STATE_REASON_NEW_EPOCH);
    CHECK(first.units_size() == 2);
    CHECK(first.usage().load().load1() == doctest::Approx(0.5));
    v1::HeartbeatRequest next;
    *next.mutable_since() = first.version();
    v1::HeartbeatResponse idle;
    REQUIRE(f.stub->Heartbeat(f.context().get(), next, &idle).ok());
    CHECK_FALSE(idle.full_state());
    CHECK(idle.units_size() == 0);
    CHECK_FALSE(idle.has_usage());
    CHECK(idle.ByteSizeLong() <= 16);
    f.publish({view("web", UnitState::kBackingOff), view("db", UnitState::kFailed)});
    v1::HeartbeatResponse diff;
    REQUIRE(f.stub->Heartbeat(f.context().get(), next, &diff).ok());
    REQUIRE(diff.units_size() == 1);
    CHECK(diff.units(0).name() == "web");
    CHECK(diff.version().revision() == 2);
  }
  CHECK_FALSE(f.backend.wrong_thread);
}

TEST_CASE("api service: every RPC asks the access policy first") {
  Fixture f;
  f.access.deny_all = true;
  v1::GetNodeResponse node;
  CHECK(f.stub->GetNode(f.context().get(), {}, &node).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  v1::ListUnitsResponse units;
  CHECK(f.stub->ListUnits(f.context().get(), {}, &units).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  v1::GetUnitResponse unit;
  CHECK(f.stub->GetUnit(f.context().get(), {}, &unit).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  v1::HeartbeatResponse heartbeat;
  CHECK(f.stub->Heartbeat(f.context().get(), {}, &heartbeat).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  v1::ReloadConfigResponse reload;
  CHECK(f.stub->ReloadConfig(f.context().get(), {}, &reload).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  v1::SignalUnitResponse signal;
  CHECK(f.stub->SignalUnit(f.context().get(), {}, &signal).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  {
    auto context = f.context();
    auto reader = f.stub->WatchEvents(context.get(), {});
    v1::WatchEventsResponse event;
    CHECK_FALSE(reader->Read(&event));
    CHECK(reader->Finish().error_code() == grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    auto context = f.context();
    v1::ReadOutputRequest request;
    request.set_unit("web");
    auto reader = f.stub->ReadOutput(context.get(), request);
    v1::ReadOutputResponse chunk;
    CHECK_FALSE(reader->Read(&chunk));
    CHECK(reader->Finish().error_code() == grpc::StatusCode::PERMISSION_DENIED);
  }
  CHECK(f.access.checked == 8);
  CHECK(f.backend.commands.empty());
  // Streams are counted when the server is done with them, which may be after the client.
  CHECK(eventually(
      [&] { return f.recorder.count("WatchEvents", grpc::StatusCode::PERMISSION_DENIED) == 1; }));

  // The read role: reads yes, commands no, with the policy's words.
  f.access.deny_all = false;
  f.access.read_only = true;
  CHECK(f.stub->GetNode(f.context().get(), {}, &node).ok());
  v1::StopUnitRequest stop;
  stop.set_name("web");
  v1::StopUnitResponse stopped;
  const grpc::Status status = f.stub->StopUnit(f.context().get(), stop, &stopped);
  CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(status.error_message() == "client \"test\" has the read role; StopUnit needs admin");
  CHECK(f.backend.commands.empty());
}

TEST_CASE("api service: commands are applied on the loop and answered with the unit") {
  Fixture f;
  v1::StartUnitRequest start;
  start.set_name("web");
  v1::StartUnitResponse started;
  REQUIRE(f.stub->StartUnit(f.context().get(), start, &started).ok());
  CHECK(started.unit().state() == v1::UNIT_STATE_RUNNING);

  v1::StopUnitRequest stop;
  stop.set_name("web");
  v1::StopUnitResponse stopped;
  REQUIRE(f.stub->StopUnit(f.context().get(), stop, &stopped).ok());
  CHECK(stopped.unit().state() == v1::UNIT_STATE_STOPPING);

  v1::RestartUnitRequest restart;
  restart.set_name("webb");
  v1::RestartUnitResponse restarted;
  grpc::Status status = f.stub->RestartUnit(f.context().get(), restart, &restarted);
  CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(status.error_message() == "no unit named \"webb\" (did you mean \"web\"?)");

  start.set_name("");
  CHECK(f.stub->StartUnit(f.context().get(), start, &started).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(f.backend.commands == std::vector<std::string>{"web", "web", "webb"});
  CHECK(f.recorder.count("StartUnit", grpc::StatusCode::OK) == 1);
  CHECK(f.recorder.count("RestartUnit", grpc::StatusCode::NOT_FOUND) == 1);
  CHECK_FALSE(f.backend.wrong_thread);
}

TEST_CASE("api service: a restart is answered when the backend says it is done") {
  Fixture f;
  f.backend.hold_restarts = true;
  auto call = std::async(std::launch::async, [&] {
    v1::RestartUnitRequest restart;
    restart.set_name("web");
    v1::RestartUnitResponse restarted;
    const grpc::Status status = f.stub->RestartUnit(f.context().get(), restart, &restarted);
    return std::make_pair(status, restarted);
  });
  REQUIRE(eventually([&] {
    bool held = false;
    f.onLoop([&] { held = !f.backend.held_restarts.empty(); });
    return held;
  }));
  CHECK(call.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
  f.onLoop([&] { f.backend.held_restarts.front()(); });
  const auto [status, restarted] = call.get();
  REQUIRE(status.ok());
  CHECK(restarted.unit().state() == v1::UNIT_STATE_RUNNING);
}

TEST_CASE("api service: SignalUnit checks the signal before the loop sees it") {
  Fixture f;
  v1::SignalUnitRequest request;
  request.set_name("web");
  request.set_signal(SIGUSR1);
  request.set_process_group(true);
  v1::SignalUnitResponse response;
  REQUIRE(f.stub->SignalUnit(f.context().get(), request, &response).ok());
  request.set_signal(0);
  grpc::Status status = f.stub->SignalUnit(f.context().get(), request, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message() ==
        "signal 0 is not a signal number (1 to " + std::to_string(SIGRTMAX) + ")");
  request.set_signal(200);
  CHECK(f.stub->SignalUnit(f.context().get(), request, &response).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  request.set_name("stopped");
  request.set_signal(SIGTERM);
  request.set_process_group(false);
  CHECK(f.stub->SignalUnit(f.context().get(), request, &response).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(f.backend.signals ==
        std::vector<std::string>{"web:" + std::to_string(SIGUSR1) + ":group", "stopped:15"});
}

TEST_CASE("api service: ReloadConfig returns the errors or the summary") {
  Fixture f;
  v1::ReloadConfigResponse response;
  REQUIRE(f.stub->ReloadConfig(f.context().get(), {}, &response).ok());
  CHECK(response.applied());
  CHECK(response.summary().added(0) == "new");
  f.backend.broken_config = true;
  response.Clear();
  REQUIRE(f.stub->ReloadConfig(f.context().get(), {}, &response).ok());
  CHECK_FALSE(response.applied());
  REQUIRE(response.errors_size() == 1);
  CHECK(response.errors(0).location().line() == 7);
}

TEST_CASE("api service: ReadOutput sends the tail in chunks of at most 64 KiB") {
  Fixture f;
  auto context = f.context();
  v1::ReadOutputRequest request;
  request.set_unit("web");
  auto reader = f.stub->ReadOutput(context.get(), request);
  std::vector<v1::ReadOutputResponse> chunks;
  v1::ReadOutputResponse chunk;
  while (reader->Read(&chunk)) {
    chunks.push_back(chunk);
  }
  REQUIRE(reader->Finish().ok());
  REQUIRE(chunks.size() == 2);
  CHECK(chunks[0].data().size() == 64 * 1024);
  CHECK(chunks[0].dropped_bytes() == 7);
  CHECK(chunks[1].data().size() == 36 * 1024);
  CHECK(chunks[1].dropped_bytes() == 0);
  CHECK(eventually([&] { return f.recorder.count("ReadOutput", grpc::StatusCode::OK) == 1; }));
  CHECK(eventually([&] { return f.service.openStreams() == 0; }));
}

TEST_CASE("api service: ReadOutput errors") {
  Fixture f;
  auto expect = [&](v1::ReadOutputRequest request, grpc::StatusCode code,
                    const std::string& message) {
    auto context = f.context();
    auto reader = f.stub->ReadOutput(context.get(), request);
    v1::ReadOutputResponse chunk;
    CHECK_FALSE(reader->Read(&chunk));
    const grpc::Status status = reader->Finish();
    CHECK(status.error_code() == code);
    CHECK(status.error_message() == message);
  };
  v1::ReadOutputRequest request;
  expect(request, grpc::StatusCode::INVALID_ARGUMENT, "unit is required");
  request.set_unit("nope");
  expect(request, grpc::StatusCode::NOT_FOUND, "no unit named \"nope\"; units: web");
  request.set_unit("web");
  request.set_instance(v1::INSTANCE_SELECTOR_PREVIOUS);
  expect(request, grpc::StatusCode::NOT_FOUND, "unit \"web\" has no previous instance");
  request.set_instance(v1::INSTANCE_SELECTOR_ID);
  expect(request, grpc::StatusCode::INVALID_ARGUMENT,
         "INSTANCE_SELECTOR_ID needs an instance_id (instances count from 1)");
  request.set_instance(v1::INSTANCE_SELECTOR_CURRENT);
  request.add_streams(v1::OUTPUT_STREAM_UNSPECIFIED);
  expect(request, grpc::StatusCode::INVALID_ARGUMENT,
         "unknown output stream 0 (OUTPUT_STREAM_STDOUT or OUTPUT_STREAM_STDERR)");
}

TEST_CASE("api service: ReadOutput follow streams new output until the client cancels") {
  Fixture f;
  auto context = f.context();
  v1::ReadOutputRequest request;
  request.set_unit("web");
  request.set_follow(true);
  auto reader = f.stub->ReadOutput(context.get(), request);
  v1::ReadOutputResponse chunk;
  REQUIRE(reader->Read(&chunk));  // the tail, in two chunks
  REQUIRE(reader->Read(&chunk));
  f.onLoop([&] { f.backend.output.write("web", OutputStream::kStderr, 1, "new line\n"); });
  REQUIRE(reader->Read(&chunk));
  CHECK(chunk.data() == "new line\n");
  CHECK(chunk.stream() == v1::OUTPUT_STREAM_STDERR);
  f.onLoop([&] { f.backend.output.instanceEnded("web", 1); });
  REQUIRE(reader->Read(&chunk));
  CHECK(chunk.instance_ended());
  context->TryCancel();
  while (reader->Read(&chunk)) {
  }
  CHECK(reader->Finish().error_code() == grpc::StatusCode::CANCELLED);
  CHECK(eventually([&] { return f.service.openStreams() == 0; }));
  CHECK(
      eventually([&] { return f.recorder.count("ReadOutput", grpc::StatusCode::CANCELLED) == 1; }));
}

v1::Event stateEvent(const std::string& unit, v1::UnitState state) {
  v1::Event event;
  event.mutable_version()->set_epoch(0xabc);
  event.mutable_unit_state_changed()->set_unit(unit);
  event.mutable_unit_state_changed()->set_new_state(state);
  return event;
}

TEST_CASE("api service: WatchEvents streams the events of the units asked for") {
  Fixture f;
  auto context = f.context();
  v1::WatchEventsRequest request;
  request.add_units("web");
  auto reader = f.stub->WatchEvents(context.get(), request);
  reader->WaitForInitialMetadata();  // subscribed
  f.onLoop([&] {
    f.events.publishEvents(
        {stateEvent("db", v1::UNIT_STATE_FAILED), stateEvent("web", v1::UNIT_STATE_BACKING_OFF)});
  });
  v1::WatchEventsResponse response;
  REQUIRE(reader->Read(&response));
  CHECK(response.event().unit_state_changed().unit() == "web");
  CHECK(response.event().version().epoch() == 0xabc);
  context->TryCancel();
  while (reader->Read(&response)) {
  }
  reader->Finish();
  CHECK(eventually([&] { return f.service.openStreams() == 0; }));
}

TEST_CASE("api service: a WatchEvents consumer that does not read is cut off and counted") {
  ApiLimitsSpec limits;
  limits.event_queue = 8;
  Fixture f(limits);
  auto context = f.context();
  auto reader = f.stub->WatchEvents(context.get(), {});
  reader->WaitForInitialMetadata();
  // Far more events than the queue and whatever the transport buffers: the consumer reads none
  // of them while they are published.
  f.onLoop([&] {
    for (int i = 0; i < 5000; ++i) {
      f.events.publishEvents({stateEvent("web", v1::UNIT_STATE_RUNNING)});
    }
  });
  CHECK(f.events.cutOffs() == 1);
  CHECK(f.recorder.cutOffs("WatchEvents") == 1);
  v1::WatchEventsResponse response;
  int received = 0;
  while (reader->Read(&response)) {
    ++received;
  }
  const grpc::Status status = reader->Finish();
  CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(status.error_message() == "too slow: 8 events queued; resync with Heartbeat");
  CHECK(received < 5000);
  CHECK(eventually(
      [&] { return f.recorder.count("WatchEvents", grpc::StatusCode::RESOURCE_EXHAUSTED) == 1; }));
  CHECK(eventually([&] { return f.service.openStreams() == 0; }));
}

TEST_CASE("api service: at most max_streams streams are open at once") {
  ApiLimitsSpec limits;
  limits.max_streams = 2;
  Fixture f(limits);
  auto first_context = f.context();
  auto first = f.stub->WatchEvents(first_context.get(), {});
  first->WaitForInitialMetadata();
  auto second_context = f.context();
  v1::ReadOutputRequest follow;
  follow.set_unit("web");
  follow.set_follow(true);
  auto second = f.stub->ReadOutput(second_context.get(), follow);
  v1::ReadOutputResponse chunk;
  REQUIRE(second->Read(&chunk));
  CHECK(f.service.openStreams() == 2);

  {
    auto context = f.context();
    auto third = f.stub->WatchEvents(context.get(), {});
    v1::WatchEventsResponse event;
    CHECK_FALSE(third->Read(&event));
    const grpc::Status status = third->Finish();
    CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
    CHECK(status.error_message() ==
          "too many streams: 2 WatchEvents and ReadOutput streams are open "
          "(api.limits.max_streams)");
  }
  // A stream that ends gives its slot back.
  first_context->TryCancel();
  v1::WatchEventsResponse event;
  while (first->Read(&event)) {
  }
  first->Finish();
  REQUIRE(eventually([&] { return f.service.openStreams() == 1; }));
  auto again_context = f.context();
  auto again = f.stub->WatchEvents(again_context.get(), {});
  again->WaitForInitialMetadata();
  CHECK(f.service.openStreams() == 2);
}

TEST_CASE("api service: shutdown ends open streams and answers calls the loop never took") {
  Fixture f;
  auto watch_context = f.context();
  auto watch = f.stub->WatchEvents(watch_context.get(), {});
  watch->WaitForInitialMetadata();
  auto follow_context = f.context();
  v1::ReadOutputRequest follow;
  follow.set_unit("web");
  follow.set_follow(true);
  auto output = f.stub->ReadOutput(follow_context.get(), follow);
  v1::ReadOutputResponse chunk;
  REQUIRE(output->Read(&chunk));

  // The loop is busy: a command waits for it.
  std::mutex mutex;
  std::condition_variable cv;
  bool release = false;
  f.loop->post([&] {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait(lock, [&] { return release; });
  });
  auto start = std::async(std::launch::async, [&] {
    v1::StartUnitRequest request;
    request.set_name("web");
    v1::StartUnitResponse response;
    return f.stub->StartUnit(f.context().get(), request, &response);
  });
  // The call reaches the service (its access check), then waits in the loop's queue.
  REQUIRE(eventually([&] { return f.access.checked >= 3; }));

  f.service.shutdown();
  CHECK(start.get().error_code() == grpc::StatusCode::UNAVAILABLE);
  v1::WatchEventsResponse event;
  while (watch->Read(&event)) {
  }
  CHECK(watch->Finish().error_code() == grpc::StatusCode::UNAVAILABLE);
  while (output->Read(&chunk)) {
  }
  CHECK(output->Finish().error_code() == grpc::StatusCode::UNAVAILABLE);
  {
    std::lock_guard<std::mutex> lock(mutex);
    release = true;
  }
  cv.notify_all();
  // The loop got to the command after the answer: it is not applied.
  f.onLoop([] {});
  CHECK(f.backend.commands.empty());
  // New calls are refused at once; reads still work.
  v1::StopUnitRequest stop;
  stop.set_name("web");
  v1::StopUnitResponse stopped;
  CHECK(f.stub->StopUnit(f.context().get(), stop, &stopped).error_code() ==
        grpc::StatusCode::UNAVAILABLE);
  v1::ListUnitsResponse units;
  CHECK(f.stub->ListUnits(f.context().get(), {}, &units).ok());
}

}  // namespace
}  // namespace vigie
