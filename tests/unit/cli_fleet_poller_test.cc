// The fleet poller against in-process fake agents: real gRPC over unix sockets, each agent a
// generated v1::Agent::CallbackService answering from a real SnapshotPublisher. One round polls
// every agent at once; diffs follow; a restarted agent is resynced; a silent one hits the
// deadline; an absent one is down.
#include <doctest/doctest.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/api/heartbeat.h"
#include "agent/api/snapshot_publisher.h"
#include "agent/cli/fleet_poller.h"
#include "tests/fakes/temp_dir.h"

namespace vigie::cli {
namespace {

class CannedUsage final : public UsageSource {
 public:
  UsageSample sample() override {
    UsageSample usage;
    usage.load = LoadSample{0.25, 0.5, 0.75};
    return usage;
  }
};

// Answers only when the client gives up: what a stuck agent looks like.
class SilentReactor final : public grpc::ServerUnaryReactor {
 public:
  void OnCancel() override { Finish(grpc::Status::CANCELLED); }
  void OnDone() override { delete this; }
};

class FakeAgent final : public v1::Agent::CallbackService {
 public:
  FakeAgent(uint64_t epoch, std::string hostname, bool silent = false)
      : publisher_(epoch), hostname_(std::move(hostname)), silent_(silent) {}

  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* context,
                                      const v1::HeartbeatRequest* request,
                                      v1::HeartbeatResponse* response) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      requests_.push_back(*request);
    }
    if (silent_) {
      return new SilentReactor();
    }
    *response = buildHeartbeat(*publisher_.current(), *request, &usage_);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* GetNode(grpc::CallbackServerContext* context, const v1::GetNodeRequest*,
                                    v1::GetNodeResponse* response) override {
    response->mutable_node()->set_hostname(hostname_);
    response->mutable_node()->set_agent_epoch(publisher_.current()->epoch);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  // Test thread only: it plays the agent's loop.
  void publish(const std::vector<UnitView>& units) {
    REQUIRE(publisher_.publish(units, ClockMapping{}));
  }

  std::vector<v1::HeartbeatRequest> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  SnapshotPublisher publisher_;
  CannedUsage usage_;
  std::string hostname_;
  bool silent_;
  mutable std::mutex mutex_;
  std::vector<v1::HeartbeatRequest> requests_;
};

class AgentServer {
 public:
  AgentServer(const std::string& socket, std::unique_ptr<FakeAgent> agent)
      : agent_(std::move(agent)) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + socket, grpc::InsecureServerCredentials());
    builder.RegisterService(agent_.get());
    server_ = builder.BuildAndStart();
    REQUIRE(server_ != nullptr);
  }
  ~AgentServer() {
    // An immediate deadline cancels the calls still open (the silent agent's).
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
  }
  AgentServer(const AgentServer&) = delete;
  AgentServer& operator=(const AgentServer&) = delete;

  FakeAgent& agent() { return *agent_; }

 private:
  std::unique_ptr<FakeAgent> agent_;
  std::unique_ptr<grpc::Server> server_;
};

UnitView unitView(const std::string& name, uint64_t total_restarts = 0,
                  UnitState state = UnitState::kRunning) {
  UnitView view;
  view.name = name;
  view.state = state;
  view.total_restarts = total_restarts;
  return view;
}

FleetTarget socketTarget(const std::string& name, const std::string& path) {
  return FleetTarget{name, "unix:" + path, true};
}

FleetChannelFactory channels(const std::vector<FleetTarget>& targets) {
  auto made = FleetChannelFactory::create(targets, FleetTlsFiles{}, 100ms);
  REQUIRE(made);
  return *made;
}

TEST_CASE("fleet poller: one round polls every agent, and an absent one is down") {
  testing::TempDir dir("fleet-poller");
  AgentServer a(dir.path() + "/a.sock", std::make_unique<FakeAgent>(11, "host-a"));
  AgentServer b(dir.path() + "/b.sock", std::make_unique<FakeAgent>(22, "host-b"));
  a.agent().publish({unitView("web"), unitView("crasher", 3, UnitState::kBackingOff)});
  b.agent().publish({unitView("db")});
  const std::vector<FleetTarget> targets = {socketTarget("a", dir.path() + "/a.sock"),
                                            socketTarget("b", dir.path() + "/b.sock"),
                                            socketTarget("ghost", dir.path() + "/none.sock")};
  FleetPoller poller(targets, channels(targets),
                     FleetPollerOptions{.call_timeout = 10s, .down_after = 1, .usage_every = 5});
  poller.pollRound();
  poller.finishCalls();

  const auto& nodes = poller.nodes();
  REQUIRE(nodes.size() == 3);
  CHECK(poller.rounds() == 1);
  CHECK(nodes[0].status() == FleetNodeStatus::kUp);
  CHECK(nodes[0].state().epoch() == 11);
  CHECK(nodes[0].state().units().size() == 2);
  CHECK(nodes[0].failingUnits() == 1);
  REQUIRE(nodes[0].usage().has_value());
  CHECK(nodes[0].usage()->load().load1() == doctest::Approx(0.25));
  REQUIRE(nodes[0].info().has_value());
  CHECK(nodes[0].info()->hostname() == "host-a");
  CHECK(nodes[1].status() == FleetNodeStatus::kUp);
  CHECK(nodes[1].state().units().size() == 1);
  CHECK(nodes[1].info()->hostname() == "host-b");
  CHECK(nodes[2].status() == FleetNodeStatus::kDown);
  CHECK(nodes[2].lastError().find(dir.path() + "/none.sock") != std::string::npos);
  CHECK(nodes[2].lastError().find("UNAVAILABLE") != std::string::npos);

  // The first poll asks for everything: no since, and the usage gauges.
  const auto requests = a.agent().requests();
  REQUIRE(requests.size() == 1);
  CHECK_FALSE(requests[0].has_since());
  CHECK(requests[0].with_usage());
}

TEST_CASE("fleet poller: later rounds send since, apply diffs and count restarts") {
  testing::TempDir dir("fleet-poller");
  const std::string socket = dir.path() + "/a.sock";
  AgentServer a(socket, std::make_unique<FakeAgent>(11, "host-a"));
  a.agent().publish({unitView("web"), unitView("db")});
  const std::vector<FleetTarget> targets = {socketTarget("a", socket)};
  FleetPoller poller(targets, channels(targets),
                     FleetPollerOptions{.call_timeout = 10s, .down_after = 3, .usage_every = 2});
  std::vector<v1::HeartbeatResponse> answers;
  poller.setHeartbeatHook([&](const FleetNode&, const v1::HeartbeatResponse& response, MonoTime) {
    answers.push_back(response);
  });

  poller.pollRound();
  a.agent().publish({unitView("web", 1), unitView("db")});  // web crashed and restarted
  poller.pollRound();
  poller.pollRound();                   // nothing changed
  a.agent().publish({unitView("db")});  // web removed
  poller.pollRound();

  REQUIRE(answers.size() == 4);
  CHECK(answers[0].full_state());
  CHECK_FALSE(answers[1].full_state());
  REQUIRE(answers[1].units_size() == 1);
  CHECK(answers[1].units(0).name() == "web");
  CHECK(answers[2].units_size() == 0);  // idle: the version only
  REQUIRE(answers[3].removed_units_size() == 1);
  CHECK(answers[3].removed_units(0).name() == "web");

  const auto requests = a.agent().requests();
  REQUIRE(requests.size() == 4);
  CHECK_FALSE(requests[0].has_since());
  for (size_t i = 1; i < requests.size(); ++i) {
    CHECK(requests[i].since().epoch() == 11);
    CHECK(requests[i].since().revision() == answers[i - 1].version().revision());
  }
  // Usage on the first poll, then on one round in two.
  CHECK(requests[0].with_usage());
  CHECK(requests[1].with_usage() != requests[2].with_usage());
  CHECK(requests[2].with_usage() != requests[3].with_usage());

  const FleetNode& node = poller.nodes()[0];
  CHECK(node.status() == FleetNodeStatus::kUp);
  CHECK(node.state().units().size() == 1);
  CHECK(node.state().revision() == answers[3].version().revision());
}

TEST_CASE("fleet poller: a restarted agent (new epoch) is resynced and described again") {
  testing::TempDir dir("fleet-poller");
  const std::string socket = dir.path() + "/a.sock";
  const std::vector<FleetTarget> targets = {socketTarget("a", socket)};
  FleetPoller poller(targets, channels(targets),
                     FleetPollerOptions{.call_timeout = 10s, .down_after = 100});
  {
    AgentServer first(socket, std::make_unique<FakeAgent>(11, "before"));
    first.agent().publish({unitView("web", 5), unitView("db")});
    poller.pollRound();
    poller.finishCalls();
    REQUIRE(poller.nodes()[0].info().has_value());
    CHECK(poller.nodes()[0].info()->hostname() == "before");
  }
  AgentServer second(socket, std::make_unique<FakeAgent>(22, "after"));
  second.agent().publish({unitView("web", 1)});
  // The channel reconnects on its own schedule (backoff capped at 100ms here): poll until the
  // new agent has answered, within a bound.
  const MonoTime give_up = std::chrono::steady_clock::now() + 15s;
  while (poller.nodes()[0].state().epoch() != 22 && std::chrono::steady_clock::now() < give_up) {
    poller.pollRound();
    poller.waitUntil(std::chrono::steady_clock::now() + 50ms);
  }
  poller.finishCalls();
  const FleetNode& node = poller.nodes()[0];
  REQUIRE(node.state().epoch() == 22);
  CHECK(node.status() == FleetNodeStatus::kUp);
  CHECK(node.state().units().size() == 1);
  CHECK(node.restartsLastPoll() == 1);  // the new epoch's own restarts
  REQUIRE(node.info().has_value());
  CHECK(node.info()->hostname() == "after");
  const auto requests = second.agent().requests();
  REQUIRE_FALSE(requests.empty());
  // It still asked with the old version; the agent answered with its full state.
  CHECK(requests.front().since().epoch() == 11);
}

TEST_CASE("fleet poller: an agent that does not answer ends the round at the deadline") {
  testing::TempDir dir("fleet-poller");
  const std::string socket = dir.path() + "/silent.sock";
  AgentServer silent(socket, std::make_unique<FakeAgent>(11, "silent", true));
  const std::vector<FleetTarget> targets = {socketTarget("silent", socket)};
  FleetPoller poller(targets, channels(targets),
                     FleetPollerOptions{.call_timeout = 300ms, .down_after = 2});
  poller.pollRound();
  const FleetNode& node = poller.nodes()[0];
  CHECK(node.status() == FleetNodeStatus::kPending);
  CHECK(node.missedPolls() == 1);
  CHECK(node.lastError() == "unix:" + socket + ": no answer within 300ms (DEADLINE_EXCEEDED)");
  poller.pollRound();
  CHECK(node.status() == FleetNodeStatus::kDown);
}

}  // namespace
}  // namespace vigie::cli
