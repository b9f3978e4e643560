// The fleet poller's copy of an agent's units: Heartbeat answers applied exactly as agent.proto
// says (full state replaces, tombstones remove, units replace), refused diffs, revision
// bookkeeping, restart counting, and a long random history checked against the agent's own full
// state.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "agent/api/heartbeat.h"
#include "agent/api/snapshot_publisher.h"
#include "agent/cli/fleet_node_state.h"

namespace vigie::cli {
namespace {

constexpr uint64_t kEpoch = 0xfeedfacecafebeefULL;
constexpr uint64_t kOtherEpoch = 0x0123456789abcdefULL;

v1::Unit unit(const std::string& name, uint64_t revision, uint64_t total_restarts = 0,
              v1::UnitState state = v1::UNIT_STATE_RUNNING) {
  v1::Unit out;
  out.set_name(name);
  out.set_revision(revision);
  out.set_state(state);
  out.set_total_restarts(total_restarts);
  return out;
}

v1::HeartbeatResponse full(uint64_t epoch, uint64_t revision, std::vector<v1::Unit> units,
                           v1::FullStateReason reason = v1::FULL_STATE_REASON_NEW_EPOCH) {
  v1::HeartbeatResponse response;
  response.mutable_version()->set_epoch(epoch);
  response.mutable_version()->set_revision(revision);
  response.set_full_state(true);
  response.set_full_state_reason(reason);
  for (auto& u : units) {
    *response.add_units() = std::move(u);
  }
  return response;
}

v1::HeartbeatResponse diff(uint64_t epoch, uint64_t revision, std::vector<v1::Unit> units,
                           std::vector<std::string> removed = {}) {
  v1::HeartbeatResponse response;
  response.mutable_version()->set_epoch(epoch);
  response.mutable_version()->set_revision(revision);
  for (auto& u : units) {
    *response.add_units() = std::move(u);
  }
  for (const auto& name : removed) {
    v1::Tombstone* tombstone = response.add_removed_units();
    tombstone->set_name(name);
    tombstone->set_revision(revision);
  }
  return response;
}

std::vector<std::string> names(const FleetNodeState& state) {
  std::vector<std::string> out;
  for (const v1::Unit& u : state.units()) {
    out.push_back(u.name());
  }
  return out;
}

// web, db, cache at revision 3.
FleetNodeState known() {
  FleetNodeState state;
  REQUIRE(state.apply(full(kEpoch, 3, {unit("web", 1), unit("db", 2, 4), unit("cache", 3)})));
  return state;
}

TEST_CASE("fleet state: nothing known asks for the full state (no since)") {
  FleetNodeState state;
  CHECK_FALSE(state.known());
  CHECK_FALSE(state.since().has_value());
  CHECK(state.units().empty());
}

TEST_CASE("fleet state: the first full state is taken whole, counts no restarts") {
  FleetNodeState state;
  const auto applied =
      state.apply(full(kEpoch, 3, {unit("web", 1), unit("db", 2, 4), unit("cache", 3)}));
  REQUIRE(applied);
  CHECK(applied->full_state);
  CHECK(applied->new_epoch);
  CHECK(applied->units_changed == 3);
  CHECK(applied->restarts == 0);  // no previous answer to count from
  CHECK(state.known());
  CHECK(state.epoch() == kEpoch);
  CHECK(state.revision() == 3);
  REQUIRE(state.since().has_value());
  CHECK(state.since()->epoch() == kEpoch);
  CHECK(state.since()->revision() == 3);
  CHECK(names(state) == std::vector<std::string>{"web", "db", "cache"});
}

TEST_CASE("fleet state: a diff replaces the units it carries and adds new ones at the end") {
  FleetNodeState state = known();
  const auto applied = state.apply(diff(kEpoch, 5, {unit("db", 5, 6), unit("batch", 4, 1)}));
  REQUIRE(applied);
  CHECK_FALSE(applied->full_state);
  CHECK_FALSE(applied->new_epoch);
  CHECK(applied->units_changed == 2);
  CHECK(applied->units_removed == 0);
  // db went from 4 to 6 total restarts; batch is new within the epoch: its one restart counts.
  CHECK(applied->restarts == 3);
  CHECK(names(state) == std::vector<std::string>{"web", "db", "cache", "batch"});
  CHECK(state.find("db")->revision() == 5);
  CHECK(state.find("db")->total_restarts() == 6);
  CHECK(state.find("web")->revision() == 1);  // untouched
  CHECK(state.revision() == 5);
  CHECK(state.since()->revision() == 5);
}

TEST_CASE("fleet state: tombstones remove units, before the diff's units are applied") {
  FleetNodeState state = known();
  const auto applied =
      state.apply(diff(kEpoch, 5, {unit("db", 5, 4)}, {"web", "never-seen", "cache"}));
  REQUIRE(applied);
  CHECK(applied->units_removed == 2);  // a tombstone of a unit never seen drops nothing
  CHECK(names(state) == std::vector<std::string>{"db"});
  CHECK(state.find("web") == nullptr);
  CHECK(state.find("cache") == nullptr);
  REQUIRE(state.find("db") != nullptr);  // the index follows the removals
  CHECK(state.find("db")->revision() == 5);
  CHECK(state.revision() == 5);
}

TEST_CASE("fleet state: a unit removed and added back in one diff is the new one") {
  FleetNodeState state = known();
  // Not what the agent sends (a name is never in both lists), but the order of the contract
  // makes the outcome well defined: drop first, then add.
  REQUIRE(state.apply(diff(kEpoch, 4, {unit("cache", 4, 0, v1::UNIT_STATE_STARTING)}, {"cache"})));
  REQUIRE(state.find("cache") != nullptr);
  CHECK(state.find("cache")->state() == v1::UNIT_STATE_STARTING);
  CHECK(names(state) == std::vector<std::string>{"web", "db", "cache"});
}

TEST_CASE("fleet state: an idle diff changes nothing but keeps the version") {
  FleetNodeState state = known();
  const auto applied = state.apply(diff(kEpoch, 3, {}));
  REQUIRE(applied);
  CHECK(applied->units_changed == 0);
  CHECK(applied->units_removed == 0);
  CHECK(applied->restarts == 0);
  CHECK(state.revision() == 3);
  CHECK(state.units().size() == 3);
}

TEST_CASE("fleet state: a diff before any full state is refused") {
  FleetNodeState state;
  const auto applied = state.apply(diff(kEpoch, 3, {unit("web", 3)}));
  CHECK_FALSE(applied);
  CHECK_FALSE(state.known());
  CHECK(state.units().empty());
  CHECK_FALSE(state.since().has_value());
}

TEST_CASE("fleet state: a diff from another epoch is refused and the next poll resyncs") {
  FleetNodeState state = known();
  const auto refused = state.apply(diff(kOtherEpoch, 9, {unit("web", 9)}));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("epoch") != std::string::npos);
  // What was known stays on show, but the next poll asks for the full state.
  CHECK(state.units().size() == 3);
  CHECK(state.epoch() == kEpoch);
  CHECK_FALSE(state.since().has_value());
  // Even a well-formed diff of the old epoch is not enough now: the full state is.
  CHECK_FALSE(state.apply(diff(kEpoch, 3, {})));
  REQUIRE(state.apply(full(kOtherEpoch, 2, {unit("web", 1), unit("db", 2)})));
  CHECK(state.since()->epoch() == kOtherEpoch);
  CHECK(state.since()->revision() == 2);
}

TEST_CASE("fleet state: a diff behind the known revision is refused") {
  FleetNodeState state = known();
  const auto refused = state.apply(diff(kEpoch, 2, {unit("web", 2)}));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("behind") != std::string::npos);
  CHECK(state.find("web")->revision() == 1);
  CHECK_FALSE(state.since().has_value());
}

TEST_CASE("fleet state: a new epoch replaces everything and counts the new epoch's restarts") {
  FleetNodeState state = known();
  // The agent restarted: counters start again from 0. db restarted twice since, and "cache" is
  // gone from its config.
  const auto applied = state.apply(full(kOtherEpoch, 1, {unit("web", 1), unit("db", 1, 2)}));
  REQUIRE(applied);
  CHECK(applied->new_epoch);
  CHECK(applied->units_removed == 1);
  CHECK(applied->restarts == 2);  // not 2 - 4: a new epoch's counters are all new
  CHECK(names(state) == std::vector<std::string>{"web", "db"});
  CHECK(state.epoch() == kOtherEpoch);
  CHECK(state.revision() == 1);
}

TEST_CASE("fleet state: a full state within the epoch counts restarts against what was known") {
  FleetNodeState state = known();
  const auto applied =
      state.apply(full(kEpoch, 40, {unit("web", 30, 1), unit("db", 2, 4), unit("new", 35, 2)},
                       v1::FULL_STATE_REASON_HISTORY_EXPIRED));
  REQUIRE(applied);
  CHECK_FALSE(applied->new_epoch);
  CHECK(applied->reason == v1::FULL_STATE_REASON_HISTORY_EXPIRED);
  CHECK(applied->restarts == 3);       // web +1, db +0, new +2
  CHECK(applied->units_removed == 1);  // cache
  CHECK(names(state) == std::vector<std::string>{"web", "db", "new"});
  CHECK(state.revision() == 40);
}

TEST_CASE("fleet state: a counter that goes down counts no restart") {
  FleetNodeState state = known();
  const auto applied = state.apply(diff(kEpoch, 4, {unit("db", 4, 1)}));
  REQUIRE(applied);
  CHECK(applied->restarts == 0);
}

TEST_CASE("fleet state: which units are failing") {
  CHECK(unitFailing(unit("a", 1, 0, v1::UNIT_STATE_BACKING_OFF)));
  CHECK(unitFailing(unit("a", 1, 0, v1::UNIT_STATE_FAILED)));
  CHECK_FALSE(unitFailing(unit("a", 1, 0, v1::UNIT_STATE_RUNNING)));
  v1::Unit looping = unit("a", 1, 3, v1::UNIT_STATE_RUNNING);
  looping.set_restart_count(2);  // between two crashes, not yet stable
  CHECK(unitFailing(looping));
  looping.set_state(v1::UNIT_STATE_STARTING);
  CHECK(unitFailing(looping));
  looping.set_restart_count(0);  // up long enough: the agent reset its count
  CHECK_FALSE(unitFailing(looping));
  CHECK_FALSE(unitFailing(unit("a", 1, 0, v1::UNIT_STATE_STOPPED)));
  v1::Unit exited = unit("a", 1, 0, v1::UNIT_STATE_EXITED);
  CHECK_FALSE(unitFailing(exited));  // no instance: nothing to blame
  exited.add_instances()->mutable_exit()->set_success(true);
  CHECK_FALSE(unitFailing(exited));
  exited.mutable_instances(0)->mutable_exit()->set_success(false);
  CHECK(unitFailing(exited));
}

// The property that matters: whatever the agent goes through, the poller's copy built from
// diffs is what a full state would say.
TEST_CASE("fleet state: diffs from a real publisher add up to its full state") {
  SnapshotPublisher publisher(kEpoch, TombstoneLimits{8, std::chrono::hours(1)});
  std::mt19937 random(20260101);
  std::vector<UnitView> views;
  int next_name = 0;
  auto addUnit = [&] {
    UnitView view;
    view.name = "unit-" + std::to_string(next_name++);
    view.state = UnitState::kRunning;
    views.push_back(view);
  };
  for (int i = 0; i < 6; ++i) {
    addUnit();
  }
  FleetNodeState state;
  size_t full_states = 0;
  uint64_t restarts_seen = 0;
  for (int step = 0; step < 400; ++step) {
    // A few changes between polls, sometimes none, sometimes many (past the tombstones kept).
    const int changes = static_cast<int>(random() % 4) + (step % 50 == 49 ? 60 : 0);
    for (int c = 0; c < changes; ++c) {
      const unsigned what = random() % 10;
      if (what < 6 && !views.empty()) {
        UnitView& view = views[random() % views.size()];
        ++view.total_restarts;
        view.pid = static_cast<pid_t>(1000 + step);
      } else if (what < 8 && views.size() > 1) {
        views.erase(views.begin() + static_cast<std::ptrdiff_t>(random() % views.size()));
      } else {
        addUnit();
      }
      publisher.publish(views, ClockMapping{});
    }
    v1::HeartbeatRequest request;
    if (const auto since = state.since()) {
      *request.mutable_since() = *since;
    }
    const v1::HeartbeatResponse answer = buildHeartbeat(*publisher.current(), request, nullptr);
    full_states += answer.full_state() ? 1 : 0;
    const auto applied = state.apply(answer);
    REQUIRE(applied);
    restarts_seen += applied->restarts;

    const v1::HeartbeatResponse truth =
        buildHeartbeat(*publisher.current(), v1::HeartbeatRequest{}, nullptr);
    INFO("step " << step << ": answer " << answer.ShortDebugString());
    REQUIRE(state.units().size() == static_cast<size_t>(truth.units_size()));
    for (const v1::Unit& expected : truth.units()) {
      const v1::Unit* got = state.find(expected.name());
      REQUIRE_MESSAGE(got != nullptr, "step " << step << ": missing " << expected.name());
      CHECK(got->SerializeAsString() == expected.SerializeAsString());
    }
    CHECK(state.revision() == publisher.current()->revision);
  }
  // The bursts pushed the poller past the tombstones kept at least once.
  CHECK(full_states > 1);
  CHECK(restarts_seen > 0);
}

}  // namespace
}  // namespace vigie::cli
