// The fleet poller's view of each node (up, down, pending, restarts per answer) and what it
// prints: the table, its summary line, the JSON document and the exit code.
#include <doctest/doctest.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <string>
#include <vector>

#include "agent/cli/fleet_node.h"
#include "agent/cli/fleet_table.h"

namespace vigie::cli {
namespace {

constexpr uint64_t kEpoch = 0x00000000deadbeefULL;
const MonoTime kT0 = MonoTime{} + std::chrono::hours(1000);

FleetTarget target(const std::string& name) {
  return FleetTarget{name, "unix:/run/" + name + ".sock", true};
}

v1::Unit unit(const std::string& name, v1::UnitState state, uint64_t total_restarts = 0) {
  v1::Unit out;
  out.set_name(name);
  out.set_revision(1);
  out.set_state(state);
  out.set_total_restarts(total_restarts);
  return out;
}

v1::HeartbeatResponse answer(uint64_t revision, std::vector<v1::Unit> units, bool full_state,
                             double load1 = -1) {
  v1::HeartbeatResponse response;
  response.mutable_version()->set_epoch(kEpoch);
  response.mutable_version()->set_revision(revision);
  response.set_full_state(full_state);
  for (auto& u : units) {
    *response.add_units() = std::move(u);
  }
  if (load1 >= 0) {
    response.mutable_usage()->mutable_load()->set_load1(static_cast<float>(load1));
    response.mutable_usage()->mutable_memory()->set_available_bytes(123456789);
  }
  return response;
}

google::protobuf::Struct parseJson(const std::string& text) {
  google::protobuf::Struct parsed;
  const auto status = google::protobuf::util::JsonStringToMessage(text, &parsed);
  REQUIRE_MESSAGE(status.ok(), status.ToString() << "\n" << text);
  return parsed;
}

const google::protobuf::Value& field(const google::protobuf::Struct& object,
                                     const std::string& name) {
  const auto it = object.fields().find(name);
  REQUIRE_MESSAGE(it != object.fields().end(), "no field " << name);
  return it->second;
}

// alpha: up, two units, one crash looping, 2 restarts in its latest answer, load 0.52.
// beta: down after 3 missed polls, never answered.
// gamma: up but missed its latest poll (1 of 3).
std::vector<FleetNode> sampleFleet() {
  std::vector<FleetNode> nodes;
  nodes.emplace_back(target("alpha"), 3);
  nodes.emplace_back(target("beta"), 3);
  nodes.emplace_back(target("gamma"), 3);
  FleetNode& alpha = nodes[0];
  REQUIRE(alpha.answered(
      answer(1,
             {unit("web", v1::UNIT_STATE_RUNNING), unit("crasher", v1::UNIT_STATE_BACKING_OFF, 5)},
             true, 0.52),
      kT0));
  REQUIRE(
      alpha.answered(answer(2, {unit("crasher", v1::UNIT_STATE_BACKING_OFF, 7)}, false), kT0 + 2s));
  for (int i = 0; i < 3; ++i) {
    nodes[1].missed(
        "unix:/run/beta.sock: cannot reach the agent: Connection refused "
        "(UNAVAILABLE)");
  }
  REQUIRE(nodes[2].answered(answer(4, {unit("db", v1::UNIT_STATE_RUNNING)}, true), kT0));
  nodes[2].missed("unix:/run/gamma.sock: no answer within 1s (DEADLINE_EXCEEDED)");
  return nodes;
}

TEST_CASE("fleet node: pending until it answers or misses down_after polls in a row") {
  FleetNode node(target("a"), 3);
  CHECK(node.status() == FleetNodeStatus::kPending);
  node.missed("x");
  node.missed("x");
  CHECK(node.status() == FleetNodeStatus::kPending);
  CHECK(node.missedPolls() == 2);
  node.missed("x");
  CHECK(node.status() == FleetNodeStatus::kDown);
  CHECK_FALSE(node.lastAnswer().has_value());
}

TEST_CASE("fleet node: up after an answer, down after down_after misses, up again at once") {
  FleetNode node(target("a"), 2);
  REQUIRE(node.answered(answer(1, {}, true), kT0));
  CHECK(node.status() == FleetNodeStatus::kUp);
  CHECK(node.lastError().empty());
  node.missed("gone");
  CHECK(node.status() == FleetNodeStatus::kUp);  // one miss is not down yet
  CHECK(node.lastError() == "gone");
  node.missed("gone");
  CHECK(node.status() == FleetNodeStatus::kDown);
  CHECK(node.lastAnswer() == kT0);
  REQUIRE(node.answered(answer(1, {}, false), kT0 + 9s));
  CHECK(node.status() == FleetNodeStatus::kUp);
  CHECK(node.missedPolls() == 0);
  CHECK(node.lastAnswer() == kT0 + 9s);
  CHECK(node.lastError().empty());
}

TEST_CASE("fleet node: restarts are those of the latest answer, none after a miss") {
  FleetNode node(target("a"), 3);
  REQUIRE(node.answered(answer(1, {unit("u", v1::UNIT_STATE_RUNNING, 5)}, true), kT0));
  CHECK_FALSE(node.restartsLastPoll().has_value());  // the first answer has no "before"
  REQUIRE(node.answered(answer(2, {unit("u", v1::UNIT_STATE_RUNNING, 8)}, false), kT0 + 2s));
  CHECK(node.restartsLastPoll() == 3);
  REQUIRE(node.answered(answer(2, {}, false), kT0 + 4s));
  CHECK(node.restartsLastPoll() == 0);
  node.missed("x");
  CHECK_FALSE(node.restartsLastPoll().has_value());
  // The answer after the miss counts everything since the previous answer.
  REQUIRE(node.answered(answer(3, {unit("u", v1::UNIT_STATE_RUNNING, 10)}, false), kT0 + 8s));
  CHECK(node.restartsLastPoll() == 2);
}

TEST_CASE("fleet node: a refused diff still means the node is up") {
  FleetNode node(target("a"), 3);
  node.missed("x");
  CHECK_FALSE(node.answered(answer(5, {}, false), kT0));
  CHECK(node.status() == FleetNodeStatus::kUp);
  CHECK(node.lastError().find("full state") != std::string::npos);
  CHECK_FALSE(node.state().since().has_value());
}

TEST_CASE("fleet node: its description is asked for once per epoch") {
  FleetNode node(target("a"), 3);
  CHECK_FALSE(node.needsInfo());  // nothing known yet
  REQUIRE(node.answered(answer(1, {}, true), kT0));
  CHECK(node.needsInfo());
  v1::NodeInfo info;
  info.set_hostname("host-a");
  node.described(info);
  CHECK_FALSE(node.needsInfo());
  v1::HeartbeatResponse restarted = answer(1, {}, true);
  restarted.mutable_version()->set_epoch(kEpoch + 1);
  REQUIRE(node.answered(restarted, kT0 + 2s));
  CHECK(node.needsInfo());
}

TEST_CASE("fleet table: ages read short") {
  CHECK(formatAge(0ms) == "0.0s");
  CHECK(formatAge(-5ms) == "0.0s");
  CHECK(formatAge(420ms) == "0.4s");
  CHECK(formatAge(9990ms) == "9.9s");
  CHECK(formatAge(12s) == "12s");
  CHECK(formatAge(185s) == "3m05s");
  CHECK(formatAge(std::chrono::minutes(127)) == "2h07m");
  CHECK(formatAge(std::chrono::hours(50)) == "2d02h");
}

TEST_CASE("fleet table: one row per node, in targets order, then the summary") {
  const std::vector<FleetNode> nodes = sampleFleet();
  const std::string table = renderFleetTable(nodes, kT0 + 2500ms);
  INFO(table);
  CHECK(table ==
        "NODE   STATUS         UNITS  FAILING  RESTARTS  HEARTBEAT  LOAD  NOTE\n"
        "alpha  up                 2        1         2  0.5s ago   0.52  failing: crasher\n"
        "beta   down               -        -         -  never         -  unix:/run/beta.sock: "
        "cannot reach the agent: Connection refused (UNAVAILABLE)\n"
        "gamma  up (1 missed)      1        0         -  2.5s ago      -  unix:/run/gamma.sock: no "
        "answer within 1s (DEADLINE_EXCEEDED)\n"
        "3 nodes: 2 up, 1 down; 3 units, 1 failing; 2 restarts since the previous answers\n");
}

TEST_CASE("fleet table: the summary counts and the exit code") {
  std::vector<FleetNode> nodes = sampleFleet();
  const FleetSummary summary = summarizeFleet(nodes);
  CHECK(summary.nodes == 3);
  CHECK(summary.up == 2);
  CHECK(summary.down == 1);
  CHECK(summary.pending == 0);
  CHECK(summary.units == 3);
  CHECK(summary.failing == 1);
  CHECK(summary.restarts == 2);
  CHECK(fleetExitCode(summary) == 1);

  CHECK(fleetExitCode(FleetSummary{.nodes = 2, .up = 2}) == 0);
  CHECK(fleetExitCode(FleetSummary{.nodes = 2, .up = 0, .down = 2}) == 3);
  CHECK(fleetExitCode(FleetSummary{.nodes = 2, .up = 0, .down = 1, .pending = 1}) == 3);
  CHECK(fleetExitCode(FleetSummary{.nodes = 2, .up = 1, .pending = 1}) == 1);
}

TEST_CASE("fleet table: many failing units are named up to four") {
  std::vector<FleetNode> nodes;
  nodes.emplace_back(target("big"), 3);
  std::vector<v1::Unit> units;
  for (int i = 0; i < 6; ++i) {
    units.push_back(unit("u" + std::to_string(i), v1::UNIT_STATE_FAILED));
  }
  REQUIRE(nodes[0].answered(answer(1, units, true), kT0));
  const std::string table = renderFleetTable(nodes, kT0);
  CHECK(table.find("failing: u0, u1, u2, u3 and 2 more") != std::string::npos);
}

TEST_CASE("fleet table: the JSON document parses and carries the same figures") {
  std::vector<FleetNode> nodes = sampleFleet();
  v1::NodeInfo info;
  info.set_hostname("host \"alpha\"\n");  // escaped in JSON
  info.set_agent_version("0.1.0");
  nodes[0].described(info);
  const WallTime wall = WallTime{} + std::chrono::seconds(1767225600) + 250ms;
  const google::protobuf::Struct json = parseJson(renderFleetJson(nodes, 7, kT0 + 2500ms, wall));
  CHECK(field(json, "round").number_value() == 7);
  CHECK(field(json, "time").string_value() == "2026-01-01T00:00:00.250Z");
  const auto& list = field(json, "nodes").list_value();
  REQUIRE(list.values_size() == 3);

  const google::protobuf::Struct& alpha = list.values(0).struct_value();
  CHECK(field(alpha, "name").string_value() == "alpha");
  CHECK(field(alpha, "address").string_value() == "unix:/run/alpha.sock");
  CHECK(field(alpha, "status").string_value() == "up");
  CHECK(field(alpha, "units").number_value() == 2);
  CHECK(field(alpha, "units_failing").number_value() == 1);
  REQUIRE(field(alpha, "failing_units").list_value().values_size() == 1);
  CHECK(field(alpha, "failing_units").list_value().values(0).string_value() == "crasher");
  CHECK(field(alpha, "restarts").number_value() == 2);
  CHECK(field(alpha, "last_heartbeat_age_seconds").number_value() == doctest::Approx(0.5));
  CHECK(field(alpha, "load1").number_value() == doctest::Approx(0.52));
  CHECK(field(alpha, "memory_available_bytes").number_value() == 123456789);
  CHECK(field(alpha, "epoch").string_value() == "00000000deadbeef");
  CHECK(field(alpha, "revision").number_value() == 2);
  CHECK(field(alpha, "hostname").string_value() == "host \"alpha\"\n");
  CHECK(field(alpha, "agent_version").string_value() == "0.1.0");
  CHECK(field(alpha, "error").has_null_value());

  const google::protobuf::Struct& beta = list.values(1).struct_value();
  CHECK(field(beta, "status").string_value() == "down");
  CHECK(field(beta, "missed_polls").number_value() == 3);
  CHECK(field(beta, "units").has_null_value());
  CHECK(field(beta, "restarts").has_null_value());
  CHECK(field(beta, "last_heartbeat_age_seconds").has_null_value());
  CHECK(field(beta, "hostname").has_null_value());
  CHECK(field(beta, "error").string_value().find("Connection refused") != std::string::npos);

  const google::protobuf::Struct& summary = field(json, "summary").struct_value();
  CHECK(field(summary, "nodes").number_value() == 3);
  CHECK(field(summary, "up").number_value() == 2);
  CHECK(field(summary, "down").number_value() == 1);
  CHECK(field(summary, "units_failing").number_value() == 1);
  CHECK(field(summary, "restarts").number_value() == 2);
}

}  // namespace
}  // namespace vigie::cli
