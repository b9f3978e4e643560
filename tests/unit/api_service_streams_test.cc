// The API's stream plumbing without gRPC: the outbox's write protocol (one write in flight, no
// write after finish, finish once), the WatchEvents hub (filters, the slow consumer's cut-off),
// the ReadOutput followers (chunks, the byte bound, instance ends), the tee, and unit names.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "agent/api/service/event_hub.h"
#include "agent/api/service/output_hub.h"
#include "agent/api/service/output_tee.h"
#include "agent/api/service/stream_outbox.h"
#include "agent/api/service/unit_names.h"

namespace vigie {
namespace {

// Records what the outbox asks of the stream; the test completes writes when it wants.
template <class Response>
class FakeWriter final : public StreamWriter<Response> {
 public:
  void sendHeaders() override {
    CHECK_FALSE(in_flight);
    in_flight = true;
    ++headers;
  }
  void startWrite(const Response* message) override {
    CHECK_FALSE(in_flight);  // one write at a time
    CHECK_FALSE(finished);   // never after finish
    in_flight = true;
    written.push_back(*message);
  }
  void finish(const grpc::Status& status) override {
    CHECK_FALSE(in_flight);  // finish waits for the write in flight
    CHECK_FALSE(finished);   // exactly once
    finished = true;
    final_status = status;
  }

  int headers = 0;
  bool in_flight = false;
  bool finished = false;
  grpc::Status final_status;
  std::vector<Response> written;
};

using TextOutbox = StreamOutbox<v1::ReadOutputResponse>;

v1::ReadOutputResponse text(const std::string& data) {
  v1::ReadOutputResponse response;
  response.set_data(data);
  return response;
}

// Completes the write in flight, as gRPC's OnWriteDone would.
template <class Response>
void complete(StreamOutbox<Response>& outbox, FakeWriter<Response>& writer, bool ok = true) {
  REQUIRE(writer.in_flight);
  writer.in_flight = false;
  outbox.writeDone(ok);
}

template <class Response>
void drain(StreamOutbox<Response>& outbox, FakeWriter<Response>& writer) {
  while (writer.in_flight) {
    complete(outbox, writer);
  }
}

TEST_CASE("api stream outbox: one write in flight, in order, finish after the queue drains") {
  TextOutbox outbox(0);
  FakeWriter<v1::ReadOutputResponse> writer;
  outbox.attach(&writer);
  CHECK(outbox.push(text("a"), 1) == TextOutbox::PushResult::kQueued);
  CHECK(outbox.push(text("b"), 1) == TextOutbox::PushResult::kQueued);
  CHECK(outbox.push(text("c"), 1) == TextOutbox::PushResult::kQueued);
  REQUIRE(writer.written.size() == 1);  // the first went out at once, the others wait
  CHECK(outbox.queuedMessages() == 2);
  outbox.close(grpc::Status::OK, /*drain=*/true);
  CHECK(outbox.push(text("late"), 1) == TextOutbox::PushResult::kClosed);
  CHECK_FALSE(writer.finished);
  drain(outbox, writer);
  REQUIRE(writer.written.size() == 3);
  CHECK(writer.written[0].data() == "a");
  CHECK(writer.written[2].data() == "c");
  CHECK(writer.finished);
  CHECK(writer.final_status.ok());
}

TEST_CASE("api stream outbox: the bound refuses what does not fit, cost 0 always fits") {
  TextOutbox outbox(10);
  FakeWriter<v1::ReadOutputResponse> writer;
  outbox.attach(&writer);
  CHECK(outbox.push(text("in flight"), 9) == TextOutbox::PushResult::kQueued);  // written at once
  CHECK(outbox.push(text("6"), 6) == TextOutbox::PushResult::kQueued);
  CHECK(outbox.push(text("4"), 4) == TextOutbox::PushResult::kQueued);
  CHECK(outbox.queuedCost() == 10);
  CHECK(outbox.push(text("1"), 1) == TextOutbox::PushResult::kFull);
  CHECK(outbox.push(text("marker"), 0) == TextOutbox::PushResult::kQueued);
  complete(outbox, writer);  // "6" goes out: room again
  CHECK(outbox.queuedCost() == 4);
  CHECK(outbox.push(text("1"), 1) == TextOutbox::PushResult::kQueued);
}

TEST_CASE("api stream outbox: closing without drain drops the queue and waits for the write") {
  TextOutbox outbox(0);
  FakeWriter<v1::ReadOutputResponse> writer;
  outbox.attach(&writer);
  outbox.push(text("a"), 1);
  outbox.push(text("b"), 1);
  outbox.close(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "cut"), /*drain=*/false);
  CHECK_FALSE(writer.finished);  // "a" is still being written
  CHECK(outbox.closed());
  complete(outbox, writer);
  CHECK(writer.finished);
  CHECK(writer.written.size() == 1);
  CHECK(writer.final_status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  // The first end asked for wins.
  outbox.close(grpc::Status::OK, true);
  CHECK(outbox.status().error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_CASE("api stream outbox: a cancel or a failed write ends the stream after the write") {
  SUBCASE("cancel") {
    TextOutbox outbox(0);
    FakeWriter<v1::ReadOutputResponse> writer;
    outbox.attach(&writer);
    outbox.push(text("a"), 1);
    outbox.push(text("b"), 1);
    outbox.close(grpc::Status::OK, /*drain=*/true);
    outbox.cancel();  // the drain is abandoned: nothing more can be delivered
    complete(outbox, writer, /*ok=*/false);
    CHECK(writer.finished);
    CHECK(writer.written.size() == 1);
  }
  SUBCASE("failed write") {
    TextOutbox outbox(0);
    FakeWriter<v1::ReadOutputResponse> writer;
    outbox.attach(&writer);
    outbox.push(text("a"), 1);
    outbox.push(text("b"), 1);
    complete(outbox, writer, /*ok=*/false);
    CHECK(writer.finished);
    CHECK(writer.final_status.error_code() == grpc::StatusCode::CANCELLED);
    CHECK(outbox.push(text("c"), 1) == TextOutbox::PushResult::kClosed);
  }
}

TEST_CASE("api stream outbox: headers go first when nothing was written, and count as a write") {
  TextOutbox outbox(0);
  FakeWriter<v1::ReadOutputResponse> writer;
  outbox.attach(&writer);
  outbox.sendHeaders();
  CHECK(writer.headers == 1);
  outbox.push(text("a"), 1);
  CHECK(writer.written.empty());  // waits for the headers
  complete(outbox, writer);
  CHECK(writer.written.size() == 1);
  outbox.sendHeaders();  // too late: a message carried them already
  complete(outbox, writer);
  CHECK(writer.headers == 1);
}

TEST_CASE("api stream outbox: after detach (the stream is done) pushes are refused") {
  TextOutbox outbox(0);
  FakeWriter<v1::ReadOutputResponse> writer;
  outbox.attach(&writer);
  outbox.close(grpc::Status::OK, false);
  CHECK(writer.finished);
  outbox.detach();
  CHECK(outbox.push(text("a"), 1) == TextOutbox::PushResult::kClosed);
  outbox.cancel();  // late callbacks are harmless
  CHECK(writer.written.empty());
}

class CountingRecorder final : public ApiCallRecorder {
 public:
  void record(std::string_view, grpc::StatusCode) override {}
  void streamCutOff(std::string_view method) override { cut_offs.emplace_back(method); }
  std::vector<std::string> cut_offs;
};

v1::Event stateEvent(const std::string& unit) {
  v1::Event event;
  event.mutable_unit_state_changed()->set_unit(unit);
  return event;
}

v1::Event reloadEvent() {
  v1::Event event;
  event.mutable_config_reloaded()->set_applied(true);
  return event;
}

TEST_CASE("api event hub: filters by unit, agent-wide events go to everyone") {
  EventHub hub(100, nullptr);
  auto all = hub.newOutbox();
  auto web = hub.newOutbox();
  FakeWriter<v1::WatchEventsResponse> all_writer;
  FakeWriter<v1::WatchEventsResponse> web_writer;
  all->attach(&all_writer);
  web->attach(&web_writer);
  hub.subscribe(all, {});
  hub.subscribe(web, {"web"});
  hub.publishEvents({stateEvent("web"), stateEvent("db"), reloadEvent()});
  drain(*all, all_writer);
  drain(*web, web_writer);
  CHECK(all_writer.written.size() == 3);
  REQUIRE(web_writer.written.size() == 2);
  CHECK(web_writer.written[0].event().unit_state_changed().unit() == "web");
  CHECK(web_writer.written[1].event().has_config_reloaded());
}

TEST_CASE("api event hub: a consumer that falls behind is cut off and counted, others go on") {
  CountingRecorder recorder;
  EventHub hub(4, &recorder);
  auto slow = hub.newOutbox();
  auto fast = hub.newOutbox();
  FakeWriter<v1::WatchEventsResponse> slow_writer;
  FakeWriter<v1::WatchEventsResponse> fast_writer;
  slow->attach(&slow_writer);
  fast->attach(&fast_writer);
  hub.subscribe(slow, {});
  hub.subscribe(fast, {});
  for (int i = 0; i < 10; ++i) {
    hub.publishEvents({stateEvent("web")});
    drain(*fast, fast_writer);  // the fast one keeps up; the slow one never completes a write
  }
  CHECK(fast_writer.written.size() == 10);
  CHECK(slow->closed());
  CHECK(slow->queuedMessages() == 0);  // its queue is dropped at the cut
  complete(*slow, slow_writer);
  REQUIRE(slow_writer.finished);
  CHECK(slow_writer.final_status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(slow_writer.final_status.error_message() ==
        "too slow: 4 events queued; resync with Heartbeat");
  CHECK(recorder.cut_offs == std::vector<std::string>{"WatchEvents"});
  CHECK(hub.cutOffs() == 1);
  CHECK(hub.subscribers() == 1);
}

TEST_CASE("api output hub: followers get new output by instance and stream, in chunks") {
  OutputHub hub;
  auto outbox = std::make_shared<OutputOutbox>(size_t{1} << 20);
  FakeWriter<v1::ReadOutputResponse> writer;
  outbox->attach(&writer);
  hub.follow("web", OutputHub::Follower{outbox, 2, true, false, 0});
  hub.write("web", OutputStream::kStdout, 1, "old instance\n");  // before the followed one
  hub.write("web", OutputStream::kStderr, 2, "not wanted\n");
  hub.write("db", OutputStream::kStdout, 2, "another unit\n");
  hub.write("web", OutputStream::kStdout, 2, "one\n");
  hub.write("web", OutputStream::kStdout, 2, "two\n");  // waits, and joins "three"
  hub.write("web", OutputStream::kStdout, 2, "three\n");
  hub.write("web", OutputStream::kStdout, 3, std::string(kOutputChunkBytes + 10, 'x'));
  hub.instanceEnded("web", 3);
  hub.instanceEnded("web", 3);  // once only
  drain(*outbox, writer);
  REQUIRE(writer.written.size() == 5);
  CHECK(writer.written[0].data() == "one\n");
  CHECK(writer.written[1].data() == "two\nthree\n");
  CHECK(writer.written[2].instance_id() == 3);
  CHECK(writer.written[2].data().size() == kOutputChunkBytes);
  CHECK(writer.written[3].data().size() == 10);
  CHECK(writer.written[4].instance_ended());
  CHECK(writer.written[4].instance_id() == 3);
}

TEST_CASE("api output hub: a slow follower's bytes are dropped and reported, never buffered") {
  OutputHub hub;
  auto outbox = std::make_shared<OutputOutbox>(100);
  FakeWriter<v1::ReadOutputResponse> writer;
  outbox->attach(&writer);
  hub.follow("web", OutputHub::Follower{outbox, 0, true, true, 0});
  hub.write("web", OutputStream::kStdout, 1, std::string(50, 'a'));  // in flight
  hub.write("web", OutputStream::kStdout, 1, std::string(60, 'b'));  // queued (60)
  hub.write("web", OutputStream::kStdout, 1, std::string(60, 'c'));  // dropped: 120 > 100
  hub.write("web", OutputStream::kStdout, 1, std::string(30, 'd'));  // fits: carries dropped 60
  CHECK(outbox->queuedCost() == 90);
  hub.instanceEnded("web", 1);
  drain(*outbox, writer);
  REQUIRE(writer.written.size() == 4);
  CHECK(writer.written[1].data() == std::string(60, 'b'));
  CHECK(writer.written[2].data() == std::string(30, 'd'));
  CHECK(writer.written[2].dropped_bytes() == 60);
  CHECK(writer.written[3].instance_ended());
}

TEST_CASE("api output hub: closed followers are forgotten") {
  OutputHub hub;
  auto outbox = std::make_shared<OutputOutbox>(100);
  FakeWriter<v1::ReadOutputResponse> writer;
  outbox->attach(&writer);
  hub.follow("web", OutputHub::Follower{outbox, 0, true, true, 0});
  CHECK(hub.followers() == 1);
  outbox->cancel();
  hub.write("web", OutputStream::kStdout, 1, "x");
  CHECK(hub.followers() == 0);
  CHECK(writer.written.empty());
}

class RecordingOutput final : public UnitOutput {
 public:
  explicit RecordingOutput(std::string* sink) : sink_(sink) {}
  void instanceStarted(uint64_t, pid_t) override { *sink_ += "[started]"; }
  void write(OutputStream, uint64_t, std::string_view data) override { *sink_ += data; }

 private:
  std::string* sink_;
};

class RecordingRouter final : public OutputRouter {
 public:
  std::unique_ptr<UnitOutput> open(const std::string&, const OutputSpec&) override {
    return std::make_unique<RecordingOutput>(&written);
  }
  std::string written;
};

TEST_CASE("api output tee: output reaches the next router and the followers") {
  RecordingRouter router;
  OutputHub hub;
  OutputTee tee(&router, hub);
  auto outbox = std::make_shared<OutputOutbox>(100);
  FakeWriter<v1::ReadOutputResponse> writer;
  outbox->attach(&writer);
  hub.follow("web", OutputHub::Follower{outbox, 0, true, true, 0});
  auto output = tee.open("web", OutputSpec{});
  output->instanceStarted(1, 42);
  output->write(OutputStream::kStdout, 1, "hello\n");
  CHECK(router.written == "[started]hello\n");
  REQUIRE(writer.written.size() == 1);
  CHECK(writer.written[0].data() == "hello\n");
  // Without a next router (no log files), the followers still get it.
  OutputTee alone(nullptr, hub);
  alone.open("web", OutputSpec{})->write(OutputStream::kStdout, 1, "more\n");
  drain(*outbox, writer);
  CHECK(writer.written.back().data() == "more\n");
}

TEST_CASE("api unit names: did you mean, or the names that exist") {
  CHECK(unknownUnitMessage("wbe", {"web", "db"}) ==
        "no unit named \"wbe\" (did you mean \"web\"?)");
  CHECK(unknownUnitMessage("crasher", {"web", "db"}) ==
        "no unit named \"crasher\"; units: web, db");
  CHECK(unknownUnitMessage("x", {}) == "no unit named \"x\": the agent has no units");
  std::vector<std::string> many;
  for (int i = 0; i < 12; ++i) {
    many.push_back("unit-number-" + std::to_string(i));
  }
  CHECK(unknownUnitMessage("zzz", many).ends_with("unit-number-9, and 2 more"));
  CHECK(editDistance("kitten", "sitting") == 3);
  CHECK(editDistance("wbe", "web") == 1);
  CHECK(editDistance("", "abc") == 3);
}

}  // namespace
}  // namespace vigie
