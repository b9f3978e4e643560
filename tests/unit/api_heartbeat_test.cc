// Heartbeat answers from snapshots: diffs by revision, tombstones, and the cases that force the
// full state.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "agent/api/heartbeat.h"
#include "agent/api/snapshot_publisher.h"

namespace vigie {
namespace {

constexpr uint64_t kEpoch = 0x5eed5eed5eed5eedULL;

UnitView unitView(const std::string& name, pid_t pid = 100) {
  UnitView view;
  view.name = name;
  view.state = UnitState::kRunning;
  view.pid = pid;
  return view;
}

v1::HeartbeatRequest since(uint64_t epoch, uint64_t revision, bool with_usage = false) {
  v1::HeartbeatRequest request;
  request.mutable_since()->set_epoch(epoch);
  request.mutable_since()->set_revision(revision);
  request.set_with_usage(with_usage);
  return request;
}

std::vector<std::string> unitNames(const v1::HeartbeatResponse& response) {
  std::vector<std::string> names;
  for (const auto& unit : response.units()) {
    names.push_back(unit.name());
  }
  return names;
}

// Three units published at revision 1.
struct Fixture {
  Fixture() { publish({unitView("web"), unitView("db"), unitView("cache")}); }
  void publish(std::vector<UnitView> views) {
    REQUIRE(publisher.publish(std::move(views), ClockMapping{}));
  }
  v1::HeartbeatResponse poll(const v1::HeartbeatRequest& request) {
    return buildHeartbeat(*publisher.current(), request, nullptr);
  }

  SnapshotPublisher publisher{kEpoch, TombstoneLimits{2, std::chrono::hours(1)}};
};

TEST_CASE("api heartbeat: the first poll (no since) gets the full state") {
  Fixture f;
  const v1::HeartbeatResponse response = f.poll(v1::HeartbeatRequest{});
  CHECK(response.full_state());
  CHECK(response.full_state_reason() == v1::FULL_STATE_REASON_NEW_EPOCH);
  CHECK(response.version().epoch() == kEpoch);
  CHECK(response.version().revision() == 1);
  CHECK(unitNames(response) == std::vector<std::string>{"web", "db", "cache"});
  CHECK(response.units(0).revision() == 1);
  CHECK(response.units(0).state() == v1::UNIT_STATE_RUNNING);
  CHECK(response.removed_units_size() == 0);
}

TEST_CASE("api heartbeat: the diff is empty when nothing changed, and a few bytes") {
  Fixture f;
  f.publish({unitView("web"), unitView("db", 200), unitView("cache")});  // revision 2
  CHECK_FALSE(f.publisher.publish({unitView("web"), unitView("db", 200), unitView("cache")},
                                  ClockMapping{}));
  const v1::HeartbeatResponse response = f.poll(since(kEpoch, 2));
  CHECK_FALSE(response.full_state());
  CHECK(response.full_state_reason() == v1::FULL_STATE_REASON_UNSPECIFIED);
  CHECK(response.version().revision() == 2);
  CHECK(response.units_size() == 0);
  CHECK(response.removed_units_size() == 0);
  CHECK_FALSE(response.has_usage());
  CHECK(response.ByteSizeLong() <= 16);  // version only: epoch (fixed64) and revision.
}

TEST_CASE("api heartbeat: a changed unit appears with its revision, and only it") {
  Fixture f;
  f.publish({unitView("web"), unitView("db", 200), unitView("cache")});  // revision 2
  const v1::HeartbeatResponse response = f.poll(since(kEpoch, 1));
  CHECK_FALSE(response.full_state());
  REQUIRE(response.units_size() == 1);
  CHECK(response.units(0).name() == "db");
  CHECK(response.units(0).revision() == 2);
  CHECK(response.units(0).pid() == 200);
  CHECK(response.version().revision() == 2);

  // A poller that is up to date gets nothing more.
  CHECK(f.poll(since(kEpoch, 2)).units_size() == 0);
}

TEST_CASE("api heartbeat: a removed unit appears as a tombstone, never next to itself") {
  Fixture f;
  f.publish({unitView("web"), unitView("cache")});  // db removed at revision 2
  v1::HeartbeatResponse response = f.poll(since(kEpoch, 1));
  CHECK_FALSE(response.full_state());
  CHECK(response.units_size() == 0);
  REQUIRE(response.removed_units_size() == 1);
  CHECK(response.removed_units(0).name() == "db");
  CHECK(response.removed_units(0).revision() == 2);
  CHECK(f.poll(since(kEpoch, 2)).removed_units_size() == 0);

  f.publish({unitView("web"), unitView("db"), unitView("cache")});  // db back at revision 3
  response = f.poll(since(kEpoch, 1));
  CHECK(unitNames(response) == std::vector<std::string>{"db"});
  CHECK(response.removed_units_size() == 0);
}

TEST_CASE("api heartbeat: another epoch (an agent restart) forces the full state") {
  Fixture f;
  const v1::HeartbeatResponse response = f.poll(since(kEpoch + 1, 1));
  CHECK(response.full_state());
  CHECK(response.full_state_reason() == v1::FULL_STATE_REASON_NEW_EPOCH);
  CHECK(response.units_size() == 3);
  CHECK(response.version().epoch() == kEpoch);
}

TEST_CASE("api heartbeat: a revision newer than the agent's forces the full state") {
  Fixture f;
  const v1::HeartbeatResponse response = f.poll(since(kEpoch, 5));
  CHECK(response.full_state());
  CHECK(response.full_state_reason() == v1::FULL_STATE_REASON_AHEAD);
  CHECK(response.units_size() == 3);
}

TEST_CASE("api heartbeat: a revision older than the tombstones kept forces the full state") {
  Fixture f;                                       // keeps two tombstones
  f.publish({unitView("db"), unitView("cache")});  // web removed @2
  f.publish({unitView("cache")});                  // db removed @3
  f.publish({});                                   // cache removed @4: web's tombstone goes
  REQUIRE(f.publisher.current()->oldest_diffable == 2);

  v1::HeartbeatResponse response = f.poll(since(kEpoch, 1));  // would miss web's removal
  CHECK(response.full_state());
  CHECK(response.full_state_reason() == v1::FULL_STATE_REASON_HISTORY_EXPIRED);
  CHECK(response.units_size() == 0);
  CHECK(response.removed_units_size() == 0);

  response = f.poll(since(kEpoch, 2));  // saw web go: the kept tombstones are enough
  CHECK_FALSE(response.full_state());
  REQUIRE(response.removed_units_size() == 2);
  CHECK(response.removed_units(0).name() == "db");
  CHECK(response.removed_units(1).name() == "cache");
}

TEST_CASE("api heartbeat: usage is sampled only when the poller asks for it") {
  class CannedUsage final : public UsageSource {
   public:
    UsageSample sample() override {
      ++samples;
      UsageSample usage;
      usage.uptime = std::chrono::seconds(3600);
      usage.load = LoadSample{0.5, 0.25, 0.125};
      return usage;
    }
    int samples = 0;
  };
  Fixture f;
  CannedUsage usage;
  v1::HeartbeatResponse response = buildHeartbeat(*f.publisher.current(), since(kEpoch, 1), &usage);
  CHECK(usage.samples == 0);
  CHECK_FALSE(response.has_usage());

  response = buildHeartbeat(*f.publisher.current(), since(kEpoch, 1, /*with_usage=*/true), &usage);
  CHECK(usage.samples == 1);
  REQUIRE(response.has_usage());
  CHECK(response.usage().uptime().seconds() == 3600);
  CHECK(response.usage().load().load5() == doctest::Approx(0.25));
  CHECK(response.units_size() == 0);  // usage is not a change.
}

TEST_CASE("api heartbeat: units carry their latest two instances only") {
  SnapshotPublisher publisher(kEpoch);
  UnitView view = unitView("web");
  for (uint64_t id = 1; id <= 5; ++id) {
    InstanceView instance;
    instance.id = id;
    if (id < 5) {
      instance.exit = ExitView{};
      instance.exit->code = static_cast<int>(id);
    }
    view.instances.push_back(instance);
  }
  REQUIRE(publisher.publish({view}, ClockMapping{}));
  const v1::HeartbeatResponse response =
      buildHeartbeat(*publisher.current(), v1::HeartbeatRequest{}, nullptr);
  REQUIRE(response.units_size() == 1);
  REQUIRE(response.units(0).instances_size() == 2);
  CHECK(response.units(0).instances(0).id() == 4);
  CHECK(response.units(0).instances(0).exit().code() == 4);
  CHECK(response.units(0).instances(1).id() == 5);
  CHECK_FALSE(response.units(0).instances(1).has_exit());
}

}  // namespace
}  // namespace vigie
