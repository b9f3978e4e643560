// A unit's health checks on a fake clock, with fake processes and fake probe runs: readiness
// over sd_notify, a liveness probe that ends the instance, the watchdog, reloads, and what the
// API, the metrics and vigiectl make of it.
#include <doctest/doctest.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <csignal>
#include <optional>
#include <string>
#include <vector>

#include "agent/api/proto_convert.h"
#include "agent/api/unit_view.h"
#include "agent/cli/status_table.h"
#include "agent/cli/unit_details.h"
#include "agent/cli/unit_words.h"
#include "agent/health/notify_router.h"
#include "agent/metrics/exposition.h"
#include "agent/metrics/unit_metrics.h"
#include "agent/supervisor/supervisor.h"
#include "tests/fakes/fake_dispatcher.h"
#include "tests/fakes/fake_probes.h"
#include "tests/fakes/fake_spawner.h"
#include "tests/fakes/metrics_text.h"
#include "tests/fakes/specs.h"

namespace vigie {
namespace {

using testing::configOf;
using testing::FakeDispatcher;
using testing::FakeProbeFactory;
using testing::FakeProcess;
using testing::FakeSpawner;
using testing::sampleValue;
using testing::testWorkload;

constexpr const char* kSocket = "/run/vigie/notify";

class HealthRecorder final : public UnitObserver {
 public:
  void onStateChanged(const Unit&, UnitState, UnitState to) override { states.push_back(to); }
  void onInstanceStarted(const Unit&, const InstanceRecord&) override {}
  void onSpawnFailed(const Unit&, const InstanceRecord& instance) override {
    spawn_errors.push_back(instance.spawn_error);
  }
  void onInstanceEnded(const Unit&, const InstanceRecord&, const RestartDecision& decision,
                       bool stopping) override {
    decisions.push_back(stopping ? RestartDecision::Action::kDone : decision.action);
  }
  void onHealthEvent(const Unit&, const InstanceRecord&, HealthEvent event) override {
    events.push_back(event);
  }

  std::vector<UnitState> states;
  std::vector<std::string> spawn_errors;
  std::vector<RestartDecision::Action> decisions;
  std::vector<HealthEvent> events;
};

struct Fixture {
  explicit Fixture(bool with_socket = true)
      : spawner(dispatcher),
        router([](pid_t) { return -1; }),
        metrics(recorder, registry, dispatcher),
        supervisor(
            dispatcher, spawner, metrics, [] { return 0.0; }, {"PATH=/bin"}, nullptr, nullptr,
            HealthServices{&probes, with_socket ? &router : nullptr, with_socket ? kSocket : ""}) {
    metrics.track(supervisor);
  }

  Unit& add(WorkloadSpec spec) {
    supervisor.load(configOf({std::move(spec)}));
    metrics.syncUnits();
    return *supervisor.units().back();
  }
  FakeProcess& process(const Unit& unit) {
    REQUIRE(unit.currentInstance() != nullptr);
    return *static_cast<FakeProcess*>(unit.currentInstance()->process.get());
  }
  bool hasEnv(const std::string& entry) const {
    const auto& env = spawner.last_spec->env;
    return std::find(env.begin(), env.end(), entry) != env.end();
  }
  std::string text() const { return exposition({&registry}); }
  double value(const std::string& series) const { return sampleValue(text(), series); }

  FakeDispatcher dispatcher;
  FakeSpawner spawner;
  FakeProbeFactory probes;
  NotifyRouter router;
  HealthRecorder recorder;
  prometheus::Registry registry;
  UnitMetrics metrics;
  Supervisor supervisor;
};

WorkloadSpec notifyWorkload(const std::string& name) {
  WorkloadSpec spec = testWorkload(name);
  spec.notify = true;
  return spec;
}

WorkloadSpec probedWorkload(const std::string& name) {
  WorkloadSpec spec = testWorkload(name);
  ProbeSpec probe;
  probe.kind = ProbeSpec::Kind::kHttp;
  probe.port = 8080;
  probe.period = 1s;
  probe.timeout = 500ms;
  probe.failure_threshold = 2;
  spec.liveness = probe;
  spec.stop.timeout = 5s;
  return spec;
}

TEST_CASE("health unit: a notify unit is starting until READY=1, and keeps its STATUS=") {
  Fixture f;
  Unit& unit = f.add(notifyWorkload("web"));
  unit.start();
  CHECK(unit.state() == UnitState::kStarting);
  CHECK(f.hasEnv(std::string("NOTIFY_SOCKET=") + kSocket));
  CHECK_FALSE(unit.ready());
  CHECK(f.value("vigie_unit_ready{unit=\"web\"}") == 0);
  const pid_t pid = unit.currentInstance()->pid;

  CHECK(f.router.deliver(pid, "STATUS=warming up"));
  CHECK(unit.currentInstance()->health.notify_status == "warming up");
  CHECK(unit.state() == UnitState::kStarting);
  CHECK(f.router.deliver(pid, "READY=1\nSTATUS=serving"));
  CHECK(unit.state() == UnitState::kRunning);
  CHECK(unit.ready());
  CHECK(unit.currentInstance()->health.notify_status == "serving");
  CHECK(f.recorder.events ==
        std::vector<HealthEvent>{HealthEvent::kStatus, HealthEvent::kStatus, HealthEvent::kReady});
  CHECK(f.value("vigie_unit_ready{unit=\"web\"}") == 1);
  // Another READY=1 changes nothing.
  CHECK(f.router.deliver(pid, "READY=1"));
  CHECK(f.recorder.events.size() == 3);

  // The next instance waits for its own READY=1; the old pid no longer counts.
  f.spawner.exitLatestWithCode(1);
  CHECK(unit.state() == UnitState::kStarting);
  CHECK_FALSE(unit.ready());
  CHECK_FALSE(f.router.deliver(pid, "READY=1"));
  CHECK(unit.currentInstance()->health.notify_status.empty());
}

TEST_CASE("health unit: a notify unit that ends before READY=1 follows its restart policy") {
  Fixture f;
  Unit& unit = f.add(notifyWorkload("web"));
  unit.start();
  f.spawner.exitLatestWithCode(3);
  CHECK(unit.state() == UnitState::kStarting);  // restarted at once
  CHECK(f.spawner.spawn_calls == 2);
  unit.stop();
  CHECK(unit.state() == UnitState::kStopping);
  CHECK(f.process(unit).group_signals == std::vector<int>{SIGTERM});
  f.spawner.killLatest(SIGTERM);
  CHECK(unit.state() == UnitState::kStopped);
}

TEST_CASE("health unit: without a notify socket, a notify unit cannot start") {
  Fixture f(/*with_socket=*/false);
  Unit& unit = f.add(notifyWorkload("web"));
  unit.start();
  CHECK(f.spawner.spawn_calls == 0);
  REQUIRE_FALSE(f.recorder.spawn_errors.empty());
  CHECK(f.recorder.spawn_errors[0].find("no sd_notify socket") != std::string::npos);
}

TEST_CASE("health unit: a unit without notify is ready once running, and gets no socket") {
  Fixture f;
  Unit& unit = f.add(testWorkload("batch"));
  unit.start();
  CHECK(unit.state() == UnitState::kRunning);
  CHECK(unit.ready());
  CHECK_FALSE(f.hasEnv(std::string("NOTIFY_SOCKET=") + kSocket));
  CHECK_FALSE(f.router.deliver(unit.currentInstance()->pid, "READY=1"));
}

TEST_CASE("health unit: liveness failures end the instance: stop signal, SIGKILL, restart") {
  Fixture f;
  WorkloadSpec spec = probedWorkload("web");
  spec.restart.policy = RestartPolicyKind::kOnFailure;
  Unit& unit = f.add(spec);
  unit.start();
  CHECK(f.probes.starts == 0);
  f.dispatcher.advance(0s);
  REQUIRE(f.probes.pass());
  f.dispatcher.advance(1s);
  REQUIRE(f.probes.fail("HTTP 500"));
  CHECK(f.process(unit).group_signals.empty());
  f.dispatcher.advance(1s);
  REQUIRE(f.probes.fail("HTTP 500"));
  FakeProcess& first = f.process(unit);
  CHECK(first.group_signals == std::vector<int>{SIGTERM});
  CHECK(unit.state() == UnitState::kRunning);
  CHECK(f.recorder.events.back() == HealthEvent::kLivenessFailed);
  f.dispatcher.advance(5s - 1ms);
  CHECK(first.group_signals.size() == 1);
  f.dispatcher.advance(1ms);
  CHECK(first.group_signals == std::vector<int>{SIGTERM, SIGKILL});
  const InstanceRecord* ended = unit.currentInstance();
  // Even a clean exit is a failure after a liveness end: on-failure restarts it.
  f.spawner.exitLatestWithCode(0);
  CHECK(ended->health.end_reason == EndReason::kLiveness);
  CHECK(ended->health.end_detail == "HTTP 500 (2 failures in a row)");
  CHECK(f.recorder.decisions.back() == RestartDecision::Action::kRestartNow);
  CHECK(f.spawner.spawn_calls == 2);
  CHECK(unit.currentInstance()->health.end_reason == EndReason::kNone);
  CHECK(unit.currentInstance()->health.liveness->state == ProbeState::kPending);

  CHECK(f.value("vigie_unit_exits_total{reason=\"liveness\",unit=\"web\"}") == 1);
  CHECK(f.value("vigie_probe_failures_total{probe=\"liveness\",unit=\"web\"}") == 2);

  // The API's view of the ended instance.
  const UnitView view = buildUnitView(unit);
  const InstanceView& first_view = view.instances.front();
  REQUIRE(first_view.exit.has_value());
  CHECK_FALSE(first_view.exit->success);
  CHECK(first_view.exit->end_reason == EndReason::kLiveness);
  CHECK(first_view.exit->description == "exit code 0 (liveness)");
  REQUIRE(first_view.liveness.has_value());
  CHECK(first_view.liveness->last_failure == "HTTP 500");
  CHECK(first_view.liveness->failures == 2);
  v1::Instance proto;
  fillInstance(first_view, &proto);
  CHECK(proto.exit().reason() == v1::EXIT_REASON_LIVENESS);
  CHECK(proto.exit().reason_detail() == "HTTP 500 (2 failures in a row)");
  CHECK(proto.liveness().state() == v1::PROBE_STATE_FAILING);
  CHECK(proto.liveness().consecutive_failures() == 2);
  CHECK(proto.liveness().failure_threshold() == 2);
}

TEST_CASE("health unit: an exec probe runs like the workload, outside its cgroup") {
  Fixture f;
  WorkloadSpec spec = probedWorkload("db");
  spec.env = {{"DB_PORT", "5432"}};
  spec.cwd = "/srv";
  spec.liveness->kind = ProbeSpec::Kind::kExec;
  spec.liveness->exec = {"/usr/bin/pg_isready"};
  Unit& unit = f.add(spec);
  unit.start();
  f.dispatcher.advance(0s);
  REQUIRE(f.probes.inFlight() != nullptr);
  const SpawnSpec& base = f.probes.inFlight()->exec_base;
  CHECK(base.cwd == "/srv");
  CHECK(std::find(base.env.begin(), base.env.end(), "DB_PORT=5432") != base.env.end());
  CHECK(f.probes.inFlight()->spec.exec == std::vector<std::string>{"/usr/bin/pg_isready"});
  CHECK(unit.currentInstance() != nullptr);
}

TEST_CASE("health unit: the instance's end cancels its probe run") {
  Fixture f;
  Unit& unit = f.add(probedWorkload("web"));
  unit.start();
  f.dispatcher.advance(0s);
  REQUIRE(f.probes.inFlight() != nullptr);
  f.spawner.exitLatestWithCode(1);
  CHECK(f.probes.cancelled() == 1);
  CHECK(unit.currentInstance() != nullptr);  // the restarted one, with its own schedule.
}

TEST_CASE("health unit: an operator's stop during a liveness end wins over the restart") {
  Fixture f;
  Unit& unit = f.add(probedWorkload("web"));
  unit.start();
  f.dispatcher.advance(0s);
  REQUIRE(f.probes.fail());
  f.dispatcher.advance(1s);
  REQUIRE(f.probes.fail());
  unit.stop();
  CHECK(unit.state() == UnitState::kStopping);
  f.spawner.killLatest(SIGTERM);
  CHECK(unit.state() == UnitState::kStopped);
  CHECK(f.spawner.spawn_calls == 1);
  CHECK(f.value("vigie_unit_exits_total{reason=\"stopped\",unit=\"web\"}") == 1);
}

TEST_CASE("health unit: the watchdog sends SIGABRT to the main process, then SIGKILL") {
  Fixture f;
  WorkloadSpec spec = notifyWorkload("worker");
  spec.watchdog = 10s;
  spec.stop.timeout = 3s;
  Unit& unit = f.add(spec);
  unit.start();
  CHECK(f.hasEnv("WATCHDOG_USEC=10000000"));
  const pid_t pid = unit.currentInstance()->pid;
  CHECK(f.router.deliver(pid, "READY=1"));
  // Each ping pushes the deadline a full period from now.
  for (int i = 0; i < 3; ++i) {
    f.dispatcher.advance(9s);
    CHECK(f.router.deliver(pid, "WATCHDOG=1"));
  }
  FakeProcess& process = f.process(unit);
  f.dispatcher.advance(10s - 1ms);
  CHECK(process.signals.empty());
  f.dispatcher.advance(1ms);
  CHECK(process.signals == std::vector<int>{SIGABRT});
  CHECK(process.group_signals.empty());
  CHECK(f.recorder.events.back() == HealthEvent::kWatchdogExpired);
  f.dispatcher.advance(3s);
  CHECK(process.group_signals == std::vector<int>{SIGKILL});
  const InstanceRecord* ended = unit.currentInstance();
  f.spawner.killLatest(SIGABRT, /*core=*/true);
  CHECK(ended->health.end_reason == EndReason::kWatchdog);
  CHECK(ended->health.end_detail == "no WATCHDOG=1 within 10s");
  CHECK(f.recorder.decisions.back() == RestartDecision::Action::kRestartNow);
  CHECK(f.value("vigie_unit_exits_total{reason=\"watchdog\",unit=\"worker\"}") == 1);
  CHECK(classifyEnd(unit.spec(), *ended->exit, ended->health.end_reason) == ExitKind::kWatchdog);
}

TEST_CASE("health unit: the watchdog runs from the start, and WATCHDOG=trigger fires it at once") {
  Fixture f;
  WorkloadSpec spec = notifyWorkload("worker");
  spec.watchdog = 2s;
  Unit& unit = f.add(spec);
  unit.start();
  // Hung before READY=1: the watchdog catches it too.
  f.dispatcher.advance(2s);
  CHECK(f.process(unit).signals == std::vector<int>{SIGABRT});
  f.spawner.killLatest(SIGABRT);
  REQUIRE(f.spawner.spawn_calls == 2);
  CHECK(f.router.deliver(unit.currentInstance()->pid, "WATCHDOG=trigger"));
  CHECK(f.process(unit).signals == std::vector<int>{SIGABRT});
}

TEST_CASE("health unit: a reload changes the probe in place; notify and watchdog restart") {
  Fixture f;
  Unit& unit = f.add(probedWorkload("web"));
  unit.start();
  f.dispatcher.advance(0s);
  REQUIRE(f.probes.fail());
  WorkloadSpec changed = probedWorkload("web");
  changed.liveness->path = "/ready";
  auto summary = f.supervisor.reload(configOf({changed}));
  CHECK(summary.updated == std::vector<std::string>{"web"});
  CHECK(f.spawner.spawn_calls == 1);
  f.dispatcher.advance(0s);
  REQUIRE(f.probes.inFlight() != nullptr);
  CHECK(f.probes.inFlight()->spec.path == "/ready");
  REQUIRE(f.probes.pass());
  CHECK(unit.currentInstance()->health.liveness->failures == 1);

  // Removing the probe stops it.
  WorkloadSpec plain = probedWorkload("web");
  plain.liveness.reset();
  summary = f.supervisor.reload(configOf({plain}));
  CHECK(summary.updated == std::vector<std::string>{"web"});
  CHECK_FALSE(unit.currentInstance()->health.liveness.has_value());
  // Adding one starts it on the running instance.
  summary = f.supervisor.reload(configOf({probedWorkload("web")}));
  CHECK(summary.updated == std::vector<std::string>{"web"});
  f.dispatcher.advance(0s);
  CHECK(f.probes.inFlight() != nullptr);

  WorkloadSpec notify = probedWorkload("web");
  notify.notify = true;
  summary = f.supervisor.reload(configOf({notify}));
  CHECK(summary.restarted == std::vector<std::string>{"web"});
}

TEST_CASE("health unit: a passing probe leaves the API's view alone, a failing one does not") {
  Fixture f;
  Unit& unit = f.add(probedWorkload("web"));
  unit.start();
  f.dispatcher.advance(0s);
  REQUIRE(f.probes.pass());
  const UnitView before = buildUnitView(unit);
  CHECK(before.ready);
  for (int i = 0; i < 3; ++i) {
    f.dispatcher.advance(1s);
    REQUIRE(f.probes.pass());
  }
  CHECK(buildUnitView(unit) == before);
  f.dispatcher.advance(1s);
  REQUIRE(f.probes.fail("connect 127.0.0.1:8080: Connection refused"));
  const UnitView after = buildUnitView(unit);
  CHECK_FALSE(after == before);
  REQUIRE(after.instances.back().liveness.has_value());
  CHECK(after.instances.back().liveness->state == ProbeState::kFailing);
}

// vigiectl's words for it.
v1::Unit healthUnit(v1::UnitState state, bool ready) {
  v1::Unit unit;
  unit.set_name("web");
  unit.set_state(state);
  unit.set_pid(1234);
  v1::Instance* instance = unit.add_instances();
  instance->set_id(1);
  instance->set_pid(1234);
  instance->set_ready(ready);
  return unit;
}

TEST_CASE("health cli: status shows readiness, a failing probe and the STATUS= column") {
  const WallTime now = WallTime{} + std::chrono::seconds(1714564800);
  v1::ListUnitsResponse response;
  *response.add_units() = healthUnit(v1::UNIT_STATE_STARTING, false);
  v1::Unit failing = healthUnit(v1::UNIT_STATE_RUNNING, true);
  failing.set_name("api");
  v1::ProbeStatus* probe = failing.mutable_instances(0)->mutable_liveness();
  probe->set_state(v1::PROBE_STATE_FAILING);
  probe->set_consecutive_failures(1);
  probe->set_failure_threshold(3);
  failing.mutable_instances(0)->set_notify_status("serving 12 clients");
  *response.add_units() = failing;

  const std::string text = cli::renderStatus(response, now, false);
  INFO(text);
  CHECK(text.find("STATUS") != std::string::npos);
  CHECK(text.find("starting (not ready)") != std::string::npos);
  CHECK(text.find("running (liveness failing 1/3)") != std::string::npos);
  CHECK(text.find("serving 12 clients") != std::string::npos);

  // Nothing about health: the table is as before, without a STATUS column.
  v1::ListUnitsResponse plain;
  *plain.add_units() = healthUnit(v1::UNIT_STATE_RUNNING, true);
  const std::string plain_text = cli::renderStatus(plain, now, false);
  CHECK(plain_text.find("STATUS") == std::string::npos);
  CHECK(plain_text.find("running  ") != std::string::npos);
}

TEST_CASE("health cli: unit show has the probe, the status and why an instance was ended") {
  const WallTime now = WallTime{} + std::chrono::seconds(1714564800);
  v1::GetUnitResponse response;
  v1::Unit& unit = *response.mutable_unit();
  unit = healthUnit(v1::UNIT_STATE_RUNNING, true);
  v1::Instance* ended = unit.mutable_instances(0);
  ended->mutable_exit()->set_kind(v1::EXIT_KIND_KILLED);
  ended->mutable_exit()->set_signal(SIGTERM);
  ended->mutable_exit()->set_reason(v1::EXIT_REASON_LIVENESS);
  ended->mutable_exit()->set_reason_detail("exit code 1 (3 failures in a row)");
  ended->mutable_liveness()->set_last_failure_output("db is down\nretry later\n");
  v1::Instance* current = unit.add_instances();
  current->set_id(2);
  current->set_pid(1234);
  current->set_ready(true);
  current->set_notify_status("serving");
  current->mutable_liveness()->set_state(v1::PROBE_STATE_PASSING);
  current->mutable_liveness()->set_last_status("exit code 0");
  v1::UnitConfig* config = response.mutable_config();
  config->add_exec("/usr/bin/app");
  config->set_notify(true);
  config->mutable_watchdog()->set_seconds(10);
  fillLivenessProbe(probedWorkload("web").liveness.value(), config->mutable_liveness());

  const std::string text = cli::renderUnitDetails(response, now, false);
  INFO(text);
  CHECK(text.find("Status:        serving") != std::string::npos);
  CHECK(text.find("Liveness:      passing (exit code 0), 0 failed runs") != std::string::npos);
  CHECK(text.find("liveness:    http GET 127.0.0.1:8080/ every 1s, timeout 500ms, 2 failures") !=
        std::string::npos);
  CHECK(text.find("watchdog:    10s") != std::string::npos);
  CHECK(text.find("signal SIGTERM (liveness)") != std::string::npos);
  CHECK(text.find("instance 1 ended for liveness: exit code 1 (3 failures in a row)") !=
        std::string::npos);
  CHECK(text.find("probe output: db is down retry later") != std::string::npos);

  v1::LivenessProbe exec;
  exec.set_kind(v1::PROBE_KIND_EXEC);
  exec.add_exec("/bin/sh");
  exec.add_exec("-c");
  exec.add_exec("pg_isready -q");
  exec.set_failure_threshold(1);
  exec.mutable_period()->set_seconds(5);
  exec.mutable_timeout()->set_seconds(1);
  exec.mutable_initial_delay()->set_seconds(30);
  CHECK(cli::livenessProbeSummary(exec) ==
        "exec /bin/sh -c 'pg_isready -q' every 5s, timeout 1s, 1 failure, first after 30s");
}

}  // namespace
}  // namespace vigie
