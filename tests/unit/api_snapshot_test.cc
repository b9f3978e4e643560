// Snapshots of the supervisor for the API: views built from real units (fake clock, fake
// spawner), revisions that move only on change, tombstones, and publishing across threads.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "agent/api/snapshot_publisher.h"
#include "agent/api/snapshot_updater.h"
#include "agent/api/unit_view.h"
#include "agent/supervisor/supervisor.h"
#include "tests/fakes/fake_dispatcher.h"
#include "tests/fakes/fake_spawner.h"
#include "tests/fakes/null_observer.h"

namespace vigie {
namespace {

using testing::FakeDispatcher;
using testing::FakeSpawner;

using testing::NullObserver;

WorkloadSpec workload(const std::string& name) {
  WorkloadSpec spec;
  spec.name = name;
  spec.exec = {"/usr/bin/" + name};
  spec.output.file.enabled = false;
  return spec;
}

struct Fixture {
  Fixture()
      : spawner(dispatcher),
        updater(logger, dispatcher, publisher),
        supervisor(dispatcher, spawner, updater, [] { return 0.0; }, {"PATH=/usr/bin:/bin"}) {
    updater.track(supervisor);
  }

  void load(std::vector<std::string> names) {
    AgentConfig config;
    for (const auto& name : names) {
      config.workloads.push_back(workload(name));
    }
    supervisor.load(config);
  }
  ClockMapping clock() const {
    return ClockMapping{dispatcher.monotonicNow(), dispatcher.wallNow()};
  }
  bool publish() { return publisher.publish(buildUnitViews(supervisor), clock()); }

  FakeDispatcher dispatcher;
  FakeSpawner spawner;
  NullObserver logger;
  SnapshotPublisher publisher{0x1234};
  SnapshotUpdater updater;
  Supervisor supervisor;
};

UnitView namedView(const std::string& name, UnitState state = UnitState::kRunning) {
  UnitView view;
  view.name = name;
  view.state = state;
  return view;
}

TEST_CASE("api snapshot: the first snapshot is empty, at revision 0, with the epoch") {
  SnapshotPublisher publisher(42);
  const NodeSnapshotPtr snapshot = publisher.current();
  REQUIRE(snapshot != nullptr);
  CHECK(snapshot->epoch == 42);
  CHECK(snapshot->revision == 0);
  CHECK(snapshot->units.empty());
}

TEST_CASE("api snapshot: agent epochs are random and never 0") {
  const uint64_t a = newAgentEpoch();
  const uint64_t b = newAgentEpoch();
  CHECK(a != 0);
  CHECK(b != 0);
  CHECK(a != b);
}

TEST_CASE("api snapshot: publishing an unchanged state does not bump the revision") {
  Fixture f;
  f.load({"web", "db"});
  CHECK(f.publish());
  const NodeSnapshotPtr first = f.publisher.current();
  CHECK(first->revision == 1);
  CHECK(first->units.size() == 2);

  f.dispatcher.advance(10s);  // time passes, nothing happens.
  CHECK_FALSE(f.publish());
  CHECK_FALSE(f.publish());
  CHECK(f.publisher.current() == first);  // the very same snapshot.
  CHECK(f.publisher.current()->revision == 1);
}

TEST_CASE("api snapshot: only the units that changed get the new revision") {
  Fixture f;
  f.load({"web", "db"});
  CHECK(f.publish());
  f.supervisor.find("db")->start();
  CHECK(f.publish());
  const NodeSnapshotPtr snapshot = f.publisher.current();
  CHECK(snapshot->revision == 2);
  CHECK(snapshot->find("web")->revision == 1);
  CHECK(snapshot->find("db")->revision == 2);
  CHECK(snapshot->find("db")->view.state == UnitState::kRunning);
  CHECK(snapshot->find("db")->view.pid == f.spawner.latest->pid());
}

TEST_CASE("api snapshot: a unit view carries its instances and their exit details") {
  Fixture f;
  WorkloadSpec spec = workload("crashy");
  spec.success_exit_codes = {0, 3};
  AgentConfig config;
  config.workloads.push_back(spec);
  f.supervisor.load(config);
  Unit& unit = *f.supervisor.find("crashy");
  unit.start();
  f.dispatcher.advance(2s);
  f.spawner.killLatest(SIGSEGV, /*core=*/true);  // restart 1: immediate
  f.dispatcher.advance(1s);
  f.spawner.exitLatestWithCode(3);  // a success for this unit, restarted by "always"
  f.dispatcher.advance(100ms);      // after the backoff

  const UnitView view = buildUnitView(unit);
  CHECK(view.name == "crashy");
  CHECK(view.total_restarts == 2);
  REQUIRE(view.instances.size() == 3);
  const InstanceView& crashed = view.instances[0];
  CHECK(crashed.id == 1);
  REQUIRE(crashed.exit.has_value());
  CHECK(crashed.exit->kind == ExitView::Kind::kDumped);
  CHECK(crashed.exit->signal == SIGSEGV);
  CHECK_FALSE(crashed.exit->success);
  CHECK(crashed.exit->runtime == 2s);
  CHECK(crashed.exit->description == "signal SIGSEGV (core dumped)");
  REQUIRE(view.instances[1].exit.has_value());
  CHECK(view.instances[1].exit->kind == ExitView::Kind::kExited);
  CHECK(view.instances[1].exit->code == 3);
  CHECK(view.instances[1].exit->success);
  CHECK_FALSE(view.instances[2].exit.has_value());  // the current one runs.
  CHECK(view.config.exec == std::vector<std::string>{"/usr/bin/crashy"});
}

TEST_CASE("api snapshot: a failed spawn is an instance that ended with its error") {
  Fixture f;
  f.load({"missing"});
  f.spawner.fail_spawns = 1;
  f.supervisor.find("missing")->start();
  const UnitView view = buildUnitView(*f.supervisor.find("missing"));
  REQUIRE(view.instances.size() >= 1);
  REQUIRE(view.instances[0].exit.has_value());
  CHECK(view.instances[0].exit->kind == ExitView::Kind::kSpawnFailed);
  CHECK(view.instances[0].exit->spawn_error.find("No such file") != std::string::npos);
  CHECK(view.failed_starts == 1);
}

TEST_CASE("api snapshot: a backing-off unit's next start is stable until something happens") {
  Fixture f;
  f.load({"web"});
  Unit& unit = *f.supervisor.find("web");
  unit.start();
  f.spawner.exitLatestWithCode(1);  // immediate restart
  f.spawner.exitLatestWithCode(1);  // backoff 100ms
  REQUIRE(unit.state() == UnitState::kBackingOff);
  CHECK(f.publish());
  const uint64_t revision = f.publisher.current()->revision;
  f.dispatcher.advance(50ms);
  CHECK_FALSE(f.publish());
  CHECK(f.publisher.current()->revision == revision);
  REQUIRE(f.publisher.current()->find("web")->view.next_start.has_value());
}

TEST_CASE("api snapshot: removed units leave tombstones stamped with the removing revision") {
  SnapshotPublisher publisher(7);
  const ClockMapping clock{};
  CHECK(publisher.publish({namedView("a"), namedView("b"), namedView("c")}, clock));
  CHECK(publisher.publish({namedView("a"), namedView("c")}, clock));
  NodeSnapshotPtr snapshot = publisher.current();
  CHECK(snapshot->revision == 2);
  REQUIRE(snapshot->tombstones.size() == 1);
  CHECK(snapshot->tombstones[0].name == "b");
  CHECK(snapshot->tombstones[0].revision == 2);
  CHECK(snapshot->find("a")->revision == 1);  // untouched

  SUBCASE("a unit that comes back replaces its tombstone") {
    CHECK(publisher.publish({namedView("a"), namedView("b"), namedView("c")}, clock));
    snapshot = publisher.current();
    CHECK(snapshot->tombstones.empty());
    CHECK(snapshot->find("b")->revision == 3);
    CHECK(snapshot->oldest_diffable == 0);
  }
}

TEST_CASE("api snapshot: tombstones are bounded by count and age, and raise the diff floor") {
  SnapshotPublisher publisher(7, TombstoneLimits{2, std::chrono::minutes(10)});
  ClockMapping clock{};
  CHECK(publisher.publish({namedView("a"), namedView("b"), namedView("c"), namedView("d")}, clock));
  CHECK(publisher.publish({namedView("b"), namedView("c"), namedView("d")}, clock));  // a @2
  CHECK(publisher.publish({namedView("c"), namedView("d")}, clock));                  // b @3
  CHECK(publisher.publish({namedView("d")}, clock));                                  // c @4
  NodeSnapshotPtr snapshot = publisher.current();
  REQUIRE(snapshot->tombstones.size() == 2);
  CHECK(snapshot->tombstones[0].name == "b");
  CHECK(snapshot->tombstones[1].name == "c");
  CHECK(snapshot->oldest_diffable == 2);  // a's tombstone is gone: diffs need since >= 2.

  // Ten minutes later the rest expire at the next publish, without a new revision.
  clock.mono += std::chrono::minutes(10);
  CHECK(publisher.publish({namedView("d")}, clock));
  snapshot = publisher.current();
  CHECK(snapshot->tombstones.empty());
  CHECK(snapshot->revision == 4);
  CHECK(snapshot->oldest_diffable == 4);
}

TEST_CASE("api snapshot: the updater publishes once per loop turn, after the burst") {
  Fixture f;
  f.load({"web", "db"});
  f.updater.requestPublish();  // after load: no unit event says so.
  f.dispatcher.runPosted();
  CHECK(f.publisher.current()->revision == 1);

  f.supervisor.startAll();                      // several events: states and starts of two units.
  CHECK(f.publisher.current()->revision == 1);  // nothing until the loop turn ends.
  f.dispatcher.runPosted();
  const NodeSnapshotPtr snapshot = f.publisher.current();
  CHECK(snapshot->revision == 2);
  CHECK(snapshot->find("web")->view.state == UnitState::kRunning);
  CHECK(snapshot->find("db")->view.state == UnitState::kRunning);

  f.dispatcher.runPosted();  // nothing more was asked.
  CHECK(f.publisher.current() == snapshot);
}

TEST_CASE("api snapshot: readers on other threads always see a whole snapshot") {
  SnapshotPublisher publisher(9);
  std::atomic<bool> done{false};
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> torn{0};
  std::thread reader([&] {
    uint64_t last = 0;
    do {
      const NodeSnapshotPtr snapshot = publisher.current();
      // Every unit of a snapshot was stamped at its revision: a torn read would show otherwise.
      for (const UnitEntry& unit : snapshot->units) {
        if (unit.revision != snapshot->revision) {
          torn.fetch_add(1);
        }
      }
      if (snapshot->revision < last) {
        torn.fetch_add(1);
      }
      last = snapshot->revision;
      reads.fetch_add(1);
    } while (!done.load());
  });
  for (int i = 0; i < 2000; ++i) {
    std::vector<UnitView> views;
    for (int u = 0; u < 5; ++u) {
      UnitView view = namedView("u" + std::to_string(u));
      view.pid = i + 1;  // every unit changes every time.
      views.push_back(view);
    }
    CHECK(publisher.publish(std::move(views), ClockMapping{}));
  }
  done = true;
  reader.join();
  CHECK(publisher.current()->revision == 2000);
  CHECK(reads.load() > 0);
  CHECK(torn.load() == 0);
}

}  // namespace
}  // namespace vigie
