// The agent's sd_notify side on a fake clock with a recording Notifier: message formats, STATUS
// coalescing, watchdog pings, and the status observer over a supervisor with fake processes.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "agent/notify/notifier.h"
#include "agent/notify/status_observer.h"
#include "agent/notify/status_summary.h"
#include "agent/notify/systemd_notifier.h"
#include "agent/supervisor/supervisor.h"
#include "tests/fakes/fake_dispatcher.h"
#include "tests/fakes/fake_spawner.h"
#include "tests/fakes/specs.h"

namespace vigie {
namespace {

using testing::FakeDispatcher;
using testing::FakeSpawner;

// Records what would have gone to NOTIFY_SOCKET, with the fake time it was sent at.
class FakeNotifier final : public Notifier {
 public:
  explicit FakeNotifier(const FakeDispatcher& dispatcher) : dispatcher_(dispatcher) {}

  Status send(std::string_view message) override {
    ++send_calls;
    if (fail_sends) {
      return Error{"sd_notify: No such file or directory", ENOENT};
    }
    messages.emplace_back(message);
    sent_at.push_back(dispatcher_.monotonicNow());
    return Status::okStatus();
  }
  Result<std::optional<Duration>> watchdogTimeout() override { return watchdog; }

  // The messages that start with `prefix`, in order.
  std::vector<std::string> withPrefix(const std::string& prefix) const {
    std::vector<std::string> out;
    for (const auto& message : messages) {
      if (message.rfind(prefix, 0) == 0) {
        out.push_back(message);
      }
    }
    return out;
  }

  std::vector<std::string> messages;
  std::vector<MonoTime> sent_at;
  int send_calls = 0;
  bool fail_sends = false;
  Result<std::optional<Duration>> watchdog = std::optional<Duration>{};

 private:
  const FakeDispatcher& dispatcher_;
};

struct Fixture {
  Fixture()
      : fake(dispatcher), notifier(dispatcher, fake, [this](const Error& error) {
          errors.push_back(error.message);
        }) {}

  FakeDispatcher dispatcher;
  FakeNotifier fake;
  std::vector<std::string> errors;
  SystemdNotifier notifier;
};

UnitCounts counts(std::initializer_list<UnitState> states) {
  UnitCounts out;
  for (UnitState state : states) {
    out.add(state);
  }
  return out;
}

TEST_CASE("notify: status summary names non-zero counts in a fixed order") {
  using S = UnitState;
  CHECK(formatStatusSummary({}) == "no units");
  CHECK(formatStatusSummary(counts({S::kRunning})) == "1 unit: 1 running");
  CHECK(formatStatusSummary(counts({S::kRunning, S::kFailed, S::kRunning})) ==
        "3 units: 2 running, 1 failed");
  CHECK(formatStatusSummary(counts({S::kStopped, S::kExited, S::kFailed, S::kBackingOff,
                                    S::kStopping, S::kStarting, S::kRunning})) ==
        "7 units: 1 running, 1 starting, 1 stopping, 1 backing-off, 1 failed, 1 exited, "
        "1 stopped");
  CHECK(formatStatusSummary(counts({S::kBackingOff, S::kBackingOff})) == "2 units: 2 backing-off");
  CHECK(counts({S::kRunning, S::kStopped}).total() == 2);
}

TEST_CASE("notify: READY=1 carries the status, STOPPING=1 is its own message") {
  Fixture f;
  f.notifier.ready("2 units: 2 running");
  f.notifier.stopping();
  CHECK(f.fake.messages ==
        std::vector<std::string>{"READY=1\nSTATUS=2 units: 2 running", "STOPPING=1"});
  CHECK(f.notifier.isReady());
  CHECK(f.notifier.lastSentStatus() == "2 units: 2 running");
}

TEST_CASE("notify: a second ready() sends nothing") {
  Fixture f;
  f.notifier.ready("a");
  f.notifier.ready("b");
  CHECK(f.fake.messages == std::vector<std::string>{"READY=1\nSTATUS=a"});
}

TEST_CASE("notify: status texts before READY=1 are not sent") {
  Fixture f;
  f.notifier.status("1 unit: 1 starting");
  f.notifier.status("1 unit: 1 running");
  f.dispatcher.advance(5s);
  CHECK(f.fake.messages.empty());
  CHECK(f.dispatcher.armedTimers() == 0);
  f.notifier.ready("1 unit: 1 running");
  CHECK(f.fake.messages == std::vector<std::string>{"READY=1\nSTATUS=1 unit: 1 running"});
}

TEST_CASE("notify: newlines in a status text cannot inject assignments") {
  Fixture f;
  f.notifier.ready("a\nREADY=1");
  f.dispatcher.advance(2s);
  f.notifier.status("b\nSTOPPING=1");
  f.dispatcher.advance(0s);
  CHECK(f.fake.messages ==
        std::vector<std::string>{"READY=1\nSTATUS=a READY=1", "STATUS=b STOPPING=1"});
}

TEST_CASE("notify: an unchanged status is never resent") {
  Fixture f;
  f.notifier.ready("1 unit: 1 running");
  f.dispatcher.advance(10s);
  f.notifier.status("1 unit: 1 running");
  f.notifier.status("1 unit: 1 running");
  f.dispatcher.advance(10s);
  CHECK(f.fake.messages.size() == 1);
}

TEST_CASE("notify: a change after a quiet second is sent on the next loop turn") {
  Fixture f;
  f.notifier.ready("1 unit: 1 running");
  f.dispatcher.advance(1s);
  const MonoTime now = f.dispatcher.monotonicNow();
  f.notifier.status("1 unit: 1 backing-off");
  CHECK(f.fake.messages.size() == 1);  // not from inside the caller's stack.
  f.dispatcher.advance(0s);
  REQUIRE(f.fake.messages.size() == 2);
  CHECK(f.fake.messages[1] == "STATUS=1 unit: 1 backing-off");
  CHECK(f.fake.sent_at[1] == now);
  CHECK(f.dispatcher.armedTimers() == 0);
}

TEST_CASE("notify: churn within one loop turn that ends where it began sends nothing") {
  Fixture f;
  f.notifier.ready("1 unit: 1 running");
  f.dispatcher.advance(5s);
  f.notifier.status("1 unit: 1 starting");
  f.notifier.status("1 unit: 1 running");
  f.dispatcher.advance(5s);
  CHECK(f.fake.messages.size() == 1);
}

TEST_CASE("notify: changes within a second are coalesced into one trailing update") {
  Fixture f;
  f.notifier.ready("1 unit: 1 running");
  const MonoTime ready_at = f.dispatcher.monotonicNow();
  f.dispatcher.advance(100ms);
  f.notifier.status("1 unit: 1 backing-off");
  f.dispatcher.advance(100ms);
  f.notifier.status("1 unit: 1 starting");
  f.notifier.status("1 unit: 1 failed");
  CHECK(f.fake.messages.size() == 1);
  REQUIRE(f.dispatcher.nextDeadline().has_value());
  CHECK(*f.dispatcher.nextDeadline() == ready_at + SystemdNotifier::kStatusInterval);

  f.dispatcher.advance(1s);
  REQUIRE(f.fake.messages.size() == 2);
  CHECK(f.fake.messages[1] == "STATUS=1 unit: 1 failed");  // the newest text only.
  CHECK(f.fake.sent_at[1] == ready_at + 1s);
  CHECK(f.dispatcher.armedTimers() == 0);
}

TEST_CASE("notify: a change undone within the second sends nothing") {
  Fixture f;
  f.notifier.ready("1 unit: 1 running");
  f.dispatcher.advance(100ms);
  f.notifier.status("1 unit: 1 backing-off");
  f.notifier.status("1 unit: 1 running");
  f.dispatcher.advance(5s);
  CHECK(f.fake.messages.size() == 1);
}

TEST_CASE("notify: a crash loop sends at most one STATUS per second") {
  Fixture f;
  f.notifier.ready("1 unit: 1 running");
  // A unit that crashes every 50ms, for 10 seconds: 600 state changes.
  for (int i = 0; i < 200; ++i) {
    f.notifier.status("1 unit: 1 backing-off");
    f.dispatcher.advance(10ms);
    f.notifier.status("1 unit: 1 starting");
    f.notifier.status(i % 2 == 0 ? "1 unit: 1 running" : "1 unit: 1 failed");
    f.dispatcher.advance(40ms);
  }
  f.dispatcher.advance(2s);
  const std::vector<std::string> statuses = f.fake.withPrefix("STATUS=");
  CHECK(statuses.size() <= 11);
  CHECK(statuses.size() >= 5);  // still updated, just not on every change.
  for (size_t i = 1; i < f.fake.sent_at.size(); ++i) {
    CHECK(f.fake.sent_at[i] - f.fake.sent_at[i - 1] >= SystemdNotifier::kStatusInterval);
  }
  // The last text given is what systemd shows in the end.
  CHECK(f.notifier.lastSentStatus() == "1 unit: 1 failed");
}

TEST_CASE("notify: watchdog pings at once, then every half of WATCHDOG_USEC") {
  Fixture f;
  f.fake.watchdog = std::optional<Duration>{200ms};
  f.notifier.ready("no units");
  const MonoTime start = f.dispatcher.monotonicNow();
  const auto period = f.notifier.startWatchdog();
  REQUIRE(period.ok());
  REQUIRE(period->has_value());
  CHECK(**period == 100ms);
  CHECK(f.fake.withPrefix("WATCHDOG=1").size() == 1);
  REQUIRE(f.dispatcher.nextDeadline().has_value());
  CHECK(*f.dispatcher.nextDeadline() == start + 100ms);

  f.dispatcher.advance(99ms);
  CHECK(f.fake.withPrefix("WATCHDOG=1").size() == 1);
  f.dispatcher.advance(1ms);
  CHECK(f.fake.withPrefix("WATCHDOG=1").size() == 2);
  f.dispatcher.advance(1s);
  CHECK(f.fake.withPrefix("WATCHDOG=1").size() == 12);
  CHECK(f.fake.messages.front() == "READY=1\nSTATUS=no units");
  for (size_t i = 2; i < f.fake.sent_at.size(); ++i) {
    CHECK(f.fake.sent_at[i] - f.fake.sent_at[i - 1] == 100ms);
  }
}

TEST_CASE("notify: the watchdog keeps pinging after STOPPING=1") {
  Fixture f;
  f.fake.watchdog = std::optional<Duration>{10s};
  REQUIRE(f.notifier.startWatchdog().ok());
  f.notifier.stopping();
  f.dispatcher.advance(5s);
  CHECK(f.fake.messages == std::vector<std::string>{"WATCHDOG=1", "STOPPING=1", "WATCHDOG=1"});
}

TEST_CASE("notify: no watchdog, no pings and no timer") {
  Fixture f;
  const auto period = f.notifier.startWatchdog();
  REQUIRE(period.ok());
  CHECK_FALSE(period->has_value());
  CHECK(f.dispatcher.armedTimers() == 0);
  f.dispatcher.advance(1h);
  CHECK(f.fake.messages.empty());
}

TEST_CASE("notify: malformed watchdog variables are an error and mean no pings") {
  Fixture f;
  f.fake.watchdog = Error{"invalid WATCHDOG_USEC or WATCHDOG_PID: Invalid argument", EINVAL};
  const auto period = f.notifier.startWatchdog();
  REQUIRE_FALSE(period.ok());
  CHECK(period.error().errno_value == EINVAL);
  CHECK(f.dispatcher.armedTimers() == 0);
  CHECK(f.fake.messages.empty());
}

TEST_CASE("notify: a tiny WATCHDOG_USEC cannot make a busy loop") {
  Fixture f;
  f.fake.watchdog = std::optional<Duration>{1us};
  const auto period = f.notifier.startWatchdog();
  REQUIRE(period.ok());
  CHECK(**period == SystemdNotifier::kMinWatchdogPeriod);
}

TEST_CASE("notify: failed sends are reported once per run of failures") {
  Fixture f;
  f.fake.watchdog = std::optional<Duration>{200ms};
  f.fake.fail_sends = true;
  f.notifier.ready("no units");
  REQUIRE(f.notifier.startWatchdog().ok());
  f.dispatcher.advance(1s);
  CHECK(f.fake.send_calls == 12);  // READY, then 11 pings: failures do not stop the pings.
  CHECK(f.errors.size() == 1);

  f.fake.fail_sends = false;
  f.dispatcher.advance(100ms);
  f.fake.fail_sends = true;
  f.dispatcher.advance(300ms);
  CHECK(f.errors.size() == 2);
  CHECK(f.errors.back() == "sd_notify: No such file or directory");
}

// --- The observer that feeds STATUS= from unit state changes ---

class CountingObserver final : public UnitObserver {
 public:
  void onStateChanged(const Unit&, UnitState, UnitState) override { ++state_changes; }
  void onInstanceStarted(const Unit&, const InstanceRecord&) override { ++started; }
  void onSpawnFailed(const Unit&, const InstanceRecord&) override { ++spawn_failed; }
  void onInstanceEnded(const Unit&, const InstanceRecord&, const RestartDecision&, bool) override {
    ++ended;
  }

  int state_changes = 0;
  int started = 0;
  int spawn_failed = 0;
  int ended = 0;
};

using testing::configOf;

WorkloadSpec workload(const std::string& name, const std::string& arg = "v1") {
  return testing::testWorkload(name, arg);
}

struct AgentFixture {
  AgentFixture()
      : fake(dispatcher),
        notifier(dispatcher, fake),
        status_observer(next, notifier),
        spawner(dispatcher),
        supervisor(dispatcher, spawner, status_observer, [] { return 0.0; }, {"PATH=/bin"}) {
    status_observer.track(supervisor);
  }

  FakeDispatcher dispatcher;
  FakeNotifier fake;
  SystemdNotifier notifier;
  CountingObserver next;
  StatusObserver status_observer;
  FakeSpawner spawner;
  Supervisor supervisor;
};

TEST_CASE("notify: the status observer passes every event on and summarizes the units") {
  AgentFixture f;
  CHECK(f.status_observer.summary() == "no units");
  f.supervisor.load(configOf({workload("a"), workload("b")}));
  CHECK(f.status_observer.summary() == "2 units: 2 stopped");
  f.supervisor.startAll();
  CHECK(f.next.started == 2);
  CHECK(f.next.state_changes == 4);  // stopped -> starting -> running, twice.
  CHECK(f.fake.messages.empty());    // not ready yet.

  f.notifier.ready(f.status_observer.summary());
  CHECK(f.fake.messages.back() == "READY=1\nSTATUS=2 units: 2 running");

  f.dispatcher.advance(2s);
  f.spawner.exitLatestWithCode(1);  // b: the first restart is immediate.
  CHECK(f.next.ended == 1);
  f.dispatcher.advance(0s);
  CHECK(f.fake.messages.size() == 1);  // ended and back to running within the same turn.
  f.spawner.exitLatestWithCode(1);     // b again: now it backs off.
  f.dispatcher.advance(0s);
  CHECK(f.fake.messages.back() == "STATUS=2 units: 1 running, 1 backing-off");
  f.dispatcher.advance(10s);  // b restarts after its backoff.
  CHECK(f.fake.messages.back() == "STATUS=2 units: 2 running");
}

TEST_CASE("notify: the status observer survives a reload and reports it once refreshed") {
  AgentFixture f;
  f.supervisor.load(configOf({workload("a"), workload("b")}));
  f.supervisor.startAll();
  f.notifier.ready(f.status_observer.summary());
  f.dispatcher.advance(2s);

  REQUIRE(f.spawner.spawned.size() == 2);
  testing::FakeProcess* old_a = f.spawner.spawned[0];
  testing::FakeProcess* old_b = f.spawner.spawned[1];

  // Drops a, changes b's definition (b stops, reported while the reload is half done), adds c.
  f.supervisor.reload(configOf({workload("b", "v2"), workload("c")}));
  f.status_observer.refresh();
  f.dispatcher.advance(2s);
  CHECK(f.notifier.lastSentStatus() == "2 units: 1 running, 1 stopping");

  ExitStatus killed;
  killed.kind = ExitStatus::Kind::kKilled;
  killed.signal = SIGTERM;
  f.spawner.exitProcess(old_b, killed);  // b starts again, with v2.
  f.spawner.exitProcess(old_a, killed);  // a is gone for good: not counted before or after.
  f.dispatcher.advance(2s);
  CHECK(f.notifier.lastSentStatus() == "2 units: 2 running");
}

}  // namespace
}  // namespace vigie
