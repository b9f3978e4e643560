// The loop side of the API on a real supervisor (fake clock, fake spawner): commands and their
// replies, restarts that wait for the stop, signals, config reloads through a real file, output
// reads and follows, and the API's events stamped with the snapshot that includes them.
#include <doctest/doctest.h>

#include <csignal>
#include <string>
#include <vector>

#include "agent/api/service/loop_backend.h"
#include "agent/api/service/output_tee.h"
#include "agent/api/snapshot_publisher.h"
#include "agent/api/snapshot_updater.h"
#include "agent/supervisor/supervisor.h"
#include "tests/fakes/fake_dispatcher.h"
#include "tests/fakes/fake_spawner.h"
#include "tests/fakes/null_observer.h"
#include "tests/fakes/temp_dir.h"

namespace vigie {
namespace {

using testing::FakeDispatcher;
using testing::FakeSpawner;
using testing::NullObserver;
using testing::TempDir;

class RecordingSink final : public ApiEventSink {
 public:
  void publishEvents(const std::vector<v1::Event>& published) override {
    events.insert(events.end(), published.begin(), published.end());
  }
  std::vector<v1::Event> of(v1::Event::PayloadCase payload) const {
    std::vector<v1::Event> out;
    for (const auto& event : events) {
      if (event.payload_case() == payload) {
        out.push_back(event);
      }
    }
    return out;
  }
  std::vector<v1::Event> events;
};

// Records what a stream would be sent; completes every write at once.
class CollectingWriter final : public StreamWriter<v1::ReadOutputResponse> {
 public:
  explicit CollectingWriter(OutputOutbox* outbox) : outbox_(outbox) {}
  void sendHeaders() override { outbox_->writeDone(true); }
  void startWrite(const v1::ReadOutputResponse* message) override {
    written.push_back(*message);
    outbox_->writeDone(true);
  }
  void finish(const grpc::Status& status) override { final_status = status; }

  std::string text() const {
    std::string all;
    for (const auto& chunk : written) {
      all += chunk.data();
    }
    return all;
  }
  std::vector<v1::ReadOutputResponse> written;
  std::optional<grpc::Status> final_status;

 private:
  OutputOutbox* outbox_;
};

struct Stream {
  Stream() : outbox(std::make_shared<OutputOutbox>(1 << 20)), writer(outbox.get()) {
    outbox->attach(&writer);
  }
  std::shared_ptr<OutputOutbox> outbox;
  CollectingWriter writer;
};

constexpr const char* kConfig = R"(workloads:
  - name: web
    exec: ["/bin/web"]
    restart:
      backoff: {initial: 2s, max: 30s}
  - name: db
    exec: ["/bin/db"]
)";

struct Fixture {
  Fixture()
      : config_path(dir.write("vigie.yaml", kConfig)),
        spawner(dispatcher),
        updater(logger, dispatcher, publisher),
        tee(nullptr, output),
        supervisor(
            dispatcher, spawner, updater, [] { return 0.0; }, {"PATH=/usr/bin:/bin"}, &tee),
        backend(LoopBackend::Deps{dispatcher, supervisor, updater, publisher, output, &sink},
                config_path, [this](const AgentConfig&) { ++reloads; }) {
    updater.track(supervisor);
    updater.setEventSink(&backend);
    const ConfigLoadResult loaded = loadConfigFile(config_path);
    REQUIRE(loaded.ok());
    supervisor.load(loaded.config);
    supervisor.startAll();
    dispatcher.runPosted();
  }

  UnitReply command(UnitCommand command, const std::string& name) {
    std::optional<UnitReply> reply;
    backend.unitCommand(command, name, [&](UnitReply r) { reply = std::move(r); });
    REQUIRE(reply.has_value());
    return *reply;
  }

  Unit& unit(const std::string& name) {
    Unit* found = supervisor.find(name);
    REQUIRE(found != nullptr);
    return *found;
  }

  // Ends the unit's running instance with `code`, as waitid would report it.
  void exitUnit(const std::string& name, int code) {
    ExitStatus status;
    status.code = code;
    spawner.exitProcess(processOf(name), status);
  }

  testing::FakeProcess* processOf(const std::string& name) {
    const InstanceRecord* current = unit(name).currentInstance();
    REQUIRE(current != nullptr);
    return dynamic_cast<testing::FakeProcess*>(current->process.get());
  }

  TempDir dir;
  std::string config_path;
  FakeDispatcher dispatcher;
  FakeSpawner spawner;
  NullObserver logger;
  SnapshotPublisher publisher{0x5eed};
  SnapshotUpdater updater;
  OutputHub output;
  OutputTee tee;
  RecordingSink sink;
  Supervisor supervisor;
  LoopBackend backend;
  int reloads = 0;
};

TEST_CASE("api backend: start and stop answer with the unit from a fresh snapshot") {
  Fixture f;
  const UnitReply stopped = f.command(UnitCommand::kStop, "db");
  REQUIRE(stopped.status.ok());
  CHECK(stopped.unit.name() == "db");
  CHECK(stopped.unit.state() == v1::UNIT_STATE_STOPPING);
  CHECK(stopped.unit.stopped_by_operator());
  // The reply's revision is the published one: a Heartbeat after it sees the change.
  CHECK(stopped.unit.revision() == f.publisher.current()->revision);
  f.spawner.killLatest(SIGTERM);
  f.dispatcher.runPosted();
  CHECK(f.unit("db").state() == UnitState::kStopped);

  const UnitReply started = f.command(UnitCommand::kStart, "db");
  REQUIRE(started.status.ok());
  CHECK(started.unit.state() == v1::UNIT_STATE_RUNNING);
  CHECK_FALSE(started.unit.stopped_by_operator());
  CHECK(started.unit.instances(started.unit.instances_size() - 1).id() == 2);

  const UnitReply unknown = f.command(UnitCommand::kStart, "dbb");
  CHECK(unknown.status.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(unknown.status.error_message() == "no unit named \"dbb\" (did you mean \"db\"?)");
}

TEST_CASE("api backend: a restart of a running unit is answered once the new instance runs") {
  Fixture f;
  testing::FakeProcess* first = f.processOf("web");
  std::optional<UnitReply> reply;
  f.backend.unitCommand(UnitCommand::kRestart, "web", [&](UnitReply r) { reply = std::move(r); });
  CHECK_FALSE(reply.has_value());
  CHECK(first->group_signals == std::vector<int>{SIGTERM});
  CHECK(f.backend.pendingRestarts() == 1);
  f.spawner.exitProcess(first, ExitStatus{ExitStatus::Kind::kKilled, 0, SIGTERM});
  f.dispatcher.runPosted();  // the publish: the stop is seen, the unit starts again
  REQUIRE(reply.has_value());
  REQUIRE(reply->status.ok());
  CHECK(reply->unit.state() == v1::UNIT_STATE_RUNNING);
  CHECK_FALSE(reply->unit.stopped_by_operator());
  CHECK(reply->unit.instances(reply->unit.instances_size() - 1).id() == 2);
  CHECK(f.backend.pendingRestarts() == 0);
}

TEST_CASE("api backend: a restart of a unit that is not running starts it at once") {
  Fixture f;
  testing::FakeProcess* web = f.processOf("web");
  f.command(UnitCommand::kStop, "web");
  f.spawner.exitProcess(web, ExitStatus{ExitStatus::Kind::kKilled, 0, SIGTERM});
  f.dispatcher.runPosted();
  const UnitReply reply = f.command(UnitCommand::kRestart, "web");
  REQUIRE(reply.status.ok());
  CHECK(reply.unit.state() == v1::UNIT_STATE_RUNNING);
}

TEST_CASE("api backend: a stop cancels a restart that waits, and shutdown answers the rest") {
  Fixture f;
  std::optional<UnitReply> web_reply;
  std::optional<UnitReply> db_reply;
  f.backend.unitCommand(UnitCommand::kRestart, "web", [&](UnitReply r) { web_reply = r; });
  f.backend.unitCommand(UnitCommand::kRestart, "db", [&](UnitReply r) { db_reply = r; });
  f.command(UnitCommand::kStop, "web");
  REQUIRE(web_reply.has_value());
  CHECK(web_reply->status.error_code() == grpc::StatusCode::ABORTED);
  CHECK_FALSE(db_reply.has_value());
  f.backend.beginShutdown();
  REQUIRE(db_reply.has_value());
  CHECK(db_reply->status.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(f.command(UnitCommand::kStart, "web").status.error_code() == grpc::StatusCode::UNAVAILABLE);
  // Stopped units are not started again once the agent is stopping.
  f.spawner.killLatest(SIGTERM);
  f.dispatcher.runPosted();
  CHECK(f.unit("db").state() == UnitState::kStopped);
}

TEST_CASE("api backend: signals go to the current instance or its group") {
  Fixture f;
  testing::FakeProcess* web = f.processOf("web");
  CHECK(f.backend.signalUnit("web", SIGUSR1, false).ok());
  CHECK(f.backend.signalUnit("web", SIGHUP, true).ok());
  CHECK(web->signals == std::vector<int>{SIGUSR1});
  CHECK(web->group_signals == std::vector<int>{SIGHUP});
  const grpc::Status unknown = f.backend.signalUnit("nope", SIGTERM, false);
  CHECK(unknown.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(unknown.error_message() == "no unit named \"nope\"; units: web, db");
  f.command(UnitCommand::kStop, "web");
  f.spawner.exitProcess(web, ExitStatus{ExitStatus::Kind::kKilled, 0, SIGTERM});
  const grpc::Status stopped = f.backend.signalUnit("web", SIGTERM, false);
  CHECK(stopped.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(stopped.error_message() == "unit \"web\" has no running instance (it is stopped)");
}

TEST_CASE("api backend: a broken config is rejected with its errors and changes nothing") {
  Fixture f;
  const uint64_t before = f.publisher.current()->revision;
  f.dir.write(
      "vigie.yaml",
      "workloads:\n  - name: web\n    exec: [\"/bin/web\"]\n    restart: {policy: sometimes}\n");
  v1::ReloadConfigResponse response;
  REQUIRE(f.backend.reloadConfig(&response).ok());
  CHECK_FALSE(response.applied());
  REQUIRE(response.errors_size() == 1);
  CHECK(response.errors(0).location().file() == f.config_path);
  CHECK(response.errors(0).location().line() == 4);
  CHECK(response.errors(0).location().column() > 0);
  CHECK(f.reloads == 0);
  CHECK(f.supervisor.units().size() == 2);
  CHECK(f.publisher.current()->revision == before);
  const auto reloaded = f.sink.of(v1::Event::kConfigReloaded);
  REQUIRE(reloaded.size() == 1);
  CHECK_FALSE(reloaded[0].config_reloaded().applied());
  CHECK(reloaded[0].config_reloaded().error_count() == response.errors_size());
  CHECK(reloaded[0].version().revision() == before);
}

TEST_CASE("api backend: a valid config is applied and summarized") {
  Fixture f;
  f.dir.write("vigie.yaml", std::string(kConfig) + "  - name: cache\n    exec: [\"/bin/cache\"]\n");
  v1::ReloadConfigResponse response;
  REQUIRE(f.backend.reloadConfig(&response).ok());
  CHECK(response.applied());
  CHECK(response.summary().added_size() == 1);
  CHECK(response.summary().added(0) == "cache");
  CHECK(response.summary().unchanged_size() == 2);
  CHECK(f.reloads == 1);
  // Published before the reply.
  CHECK(f.publisher.current()->find("cache") != nullptr);
  const auto reloaded = f.sink.of(v1::Event::kConfigReloaded);
  REQUIRE(reloaded.size() == 1);
  CHECK(reloaded[0].config_reloaded().summary().added(0) == "cache");
  CHECK(reloaded[0].version().revision() == f.publisher.current()->revision);
}

TEST_CASE("api backend: output of the current, the previous and a given instance") {
  Fixture f;
  Unit& web = f.unit("web");
  web.instances().back()->stdout_tail.append("first out\n");
  f.exitUnit("web", 1);  // restarted at once: instance 2
  f.dispatcher.runPosted();
  REQUIRE(web.instances().size() == 2);
  web.instances().back()->stdout_tail.append("second out\n");
  web.instances().back()->stderr_tail.append("second err\n");

  SUBCASE("current: both streams") {
    Stream stream;
    v1::ReadOutputRequest request;
    request.set_unit("web");
    REQUIRE(f.backend.readOutput(request, stream.outbox).ok());
    REQUIRE(stream.writer.written.size() == 2);
    CHECK(stream.writer.written[0].instance_id() == 2);
    CHECK(stream.writer.written[0].data() == "second out\n");
    CHECK(stream.writer.written[1].stream() == v1::OUTPUT_STREAM_STDERR);
  }
  SUBCASE("previous, stdout, the last bytes only") {
    Stream stream;
    v1::ReadOutputRequest request;
    request.set_unit("web");
    request.set_instance(v1::INSTANCE_SELECTOR_PREVIOUS);
    request.add_streams(v1::OUTPUT_STREAM_STDOUT);
    request.set_tail_bytes(4);
    REQUIRE(f.backend.readOutput(request, stream.outbox).ok());
    REQUIRE(stream.writer.written.size() == 1);
    CHECK(stream.writer.written[0].instance_id() == 1);
    CHECK(stream.writer.written[0].data() == "out\n");
  }
  SUBCASE("by id, and ids that are not kept") {
    Stream stream;
    v1::ReadOutputRequest request;
    request.set_unit("web");
    request.set_instance(v1::INSTANCE_SELECTOR_ID);
    request.set_instance_id(1);
    REQUIRE(f.backend.readOutput(request, stream.outbox).ok());
    CHECK(stream.writer.text() == "first out\n");
    request.set_instance_id(9);
    const grpc::Status missing = f.backend.readOutput(request, stream.outbox);
    CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(missing.error_message() == "unit \"web\" has no instance 9 (kept: 1 to 2)");
  }
  SUBCASE("no previous instance") {
    Stream stream;
    v1::ReadOutputRequest request;
    request.set_unit("db");
    request.set_instance(v1::INSTANCE_SELECTOR_PREVIOUS);
    const grpc::Status missing = f.backend.readOutput(request, stream.outbox);
    CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(missing.error_message() ==
          "unit \"db\" has no previous instance: only instance 1 is kept");
  }
}

TEST_CASE("api backend: what the ring buffer overwrote is reported as dropped") {
  Fixture f;
  InstanceRecord& instance = *f.unit("web").instances().back();
  const size_t capacity = instance.stdout_tail.capacity();
  instance.stdout_tail.append(std::string(capacity + 100, 'x'));
  Stream stream;
  v1::ReadOutputRequest request;
  request.set_unit("web");
  request.add_streams(v1::OUTPUT_STREAM_STDOUT);
  REQUIRE(f.backend.readOutput(request, stream.outbox).ok());
  REQUIRE_FALSE(stream.writer.written.empty());
  CHECK(stream.writer.written[0].dropped_bytes() == 100);
  CHECK(stream.writer.text().size() == capacity);
}

TEST_CASE(
    "api backend: follow gets the tail, then new output and instance ends, across "
    "restarts") {
  Fixture f;
  Unit& web = f.unit("web");
  web.instances().back()->stdout_tail.append("kept\n");
  Stream stream;
  v1::ReadOutputRequest request;
  request.set_unit("web");
  request.set_follow(true);
  REQUIRE(f.backend.readOutput(request, stream.outbox).ok());
  CHECK(stream.writer.text() == "kept\n");
  // New output of the unit reaches the follower through the tee, as the unit's readers send it.
  auto output = f.tee.open("web", OutputSpec{});
  output->write(OutputStream::kStdout, 1, "new\n");
  f.exitUnit("web", 3);      // instance 1 ends, instance 2 starts at once
  f.dispatcher.runPosted();  // the publish carries the exit: instance_ended
  output->write(OutputStream::kStderr, 2, "from two\n");
  const auto& written = stream.writer.written;
  REQUIRE(written.size() == 4);
  CHECK(written[1].data() == "new\n");
  CHECK(written[2].instance_ended());
  CHECK(written[2].instance_id() == 1);
  CHECK(written[3].instance_id() == 2);
  CHECK(written[3].data() == "from two\n");
  CHECK_FALSE(stream.writer.final_status.has_value());  // still open
}

TEST_CASE("api backend: following an instance that already ended marks its end once") {
  Fixture f;
  f.exitUnit("web", 0);  // web restarts (policy always): instance 1 ended
  Stream stream;
  v1::ReadOutputRequest request;
  request.set_unit("web");
  request.set_instance(v1::INSTANCE_SELECTOR_PREVIOUS);
  request.set_follow(true);
  REQUIRE(f.backend.readOutput(request, stream.outbox).ok());
  f.dispatcher.runPosted();  // the exit's event arrives after the follow: no second marker
  int ends = 0;
  for (const auto& chunk : stream.writer.written) {
    ends += chunk.instance_ended() ? 1 : 0;
  }
  CHECK(ends == 1);
}

TEST_CASE("api events: built from unit events and stamped with the snapshot that has them") {
  Fixture f;
  const auto started = f.sink.of(v1::Event::kInstanceStarted);
  REQUIRE(started.size() == 2);
  CHECK(started[0].instance_started().unit() == "web");
  CHECK(started[0].instance_started().instance_id() == 1);
  CHECK(started[0].version().epoch() == 0x5eed);
  CHECK(started[0].version().revision() == f.publisher.current()->revision);
  f.sink.events.clear();

  f.spawner.killLatest(SIGSEGV, /*core=*/true);  // db (the latest spawned) crashes
  f.dispatcher.runPosted();
  const uint64_t crash_revision = f.publisher.current()->revision;
  auto exited = f.sink.of(v1::Event::kInstanceExited);
  REQUIRE(exited.size() == 1);
  CHECK(exited[0].instance_exited().unit() == "db");
  CHECK(exited[0].instance_exited().instance().exit().kind() == v1::EXIT_KIND_DUMPED);
  CHECK(exited[0].instance_exited().instance().exit().signal() == SIGSEGV);
  CHECK(exited[0].instance_exited().restart() == v1::RESTART_ACTION_NOW);
  CHECK(exited[0].version().revision() == crash_revision);
  f.sink.events.clear();

  f.spawner.killLatest(SIGSEGV);  // the second crash in a row backs off (initial 100ms)
  f.dispatcher.runPosted();
  exited = f.sink.of(v1::Event::kInstanceExited);
  REQUIRE(exited.size() == 1);
  CHECK(exited[0].instance_exited().restart() == v1::RESTART_ACTION_LATER);
  CHECK(exited[0].instance_exited().restart_delay().nanos() == 100'000'000);
  const auto changed = f.sink.of(v1::Event::kUnitStateChanged);
  REQUIRE_FALSE(changed.empty());
  const auto& backing_off = changed.back().unit_state_changed();
  CHECK(backing_off.new_state() == v1::UNIT_STATE_BACKING_OFF);
  REQUIRE(backing_off.has_next_start_time());
  CHECK(exited[0].version().revision() == crash_revision + 1);
}

}  // namespace
}  // namespace vigie
