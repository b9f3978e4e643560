// Incidents from the unit observer chain, matched with the helper's reports, on a real store in
// a temp dir, with a fake clock, a fake spawner and the store's jobs run inline.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "agent/coredump/capture_id.h"
#include "agent/crash/durable_files.h"
#include "agent/crash/incident_builder.h"
#include "agent/crash/incident_store.h"
#include "agent/crash/incident_tracker.h"
#include "agent/supervisor/supervisor.h"
#include "tests/fakes/fake_dispatcher.h"
#include "tests/fakes/fake_spawner.h"
#include "tests/fakes/null_observer.h"
#include "tests/fakes/temp_dir.h"

namespace vigie::crash {
namespace {

namespace fs = std::filesystem;
using testing::FakeDispatcher;
using testing::FakeSpawner;
using testing::NullObserver;
using testing::TempDir;

struct Rig {
  explicit Rig(CrashRetentionSpec retention = {}) { reset(retention); }

  void reset(CrashRetentionSpec retention = {}) {
    supervisor.reset();
    tracker.reset();
    IncidentTracker::Options options;
    options.report_timeout = std::chrono::seconds(30);
    options.retention = retention;
    tracker =
        std::make_unique<IncidentTracker>(next, dispatcher, store, worker, publisher, options);
    tracker->setCoreExpected(true);
    supervisor = std::make_unique<Supervisor>(
        dispatcher, spawner, *tracker, [] { return 0.0; },
        std::vector<std::string>{"PATH=/usr/bin:/bin"});
    tracker->start();
    for (int turn = 0; turn < 3; ++turn) {  // the load, then the spool entries it names.
      dispatcher.runPosted();
    }
  }

  Unit& add(const std::string& name) {
    WorkloadSpec spec;
    spec.name = name;
    spec.exec = {"/usr/bin/server", "--port", "80"};
    AgentConfig config;
    config.workloads.push_back(spec);
    supervisor->load(config);
    Unit& unit = *supervisor->units().back();
    unit.start();
    return unit;
  }

  // A spool entry as vigie-coredump publishes it.
  std::string spoolEntry(pid_t pid, uint64_t ticks, const std::string& fingerprint = "f00d",
                         int session = 0) {
    v1::CaptureReport report;
    ++entries;
    const std::string id = coredump::makeCaptureId(1700000000 + entries, pid,
                                                   0xabc00000u + static_cast<uint32_t>(entries));
    report.set_id(id);
    report.set_outcome(v1::CAPTURE_OUTCOME_COMPLETE);
    report.set_signal(SIGSEGV);
    report.set_signal_name("SIGSEGV");
    report.mutable_process()->set_pid(pid);
    report.mutable_process()->set_start_time_ticks(ticks);
    report.mutable_process()->set_session_id(session);
    report.mutable_process()->set_exe("/usr/bin/server");
    auto* frame = report.mutable_backtrace()->add_threads()->add_frames();
    frame->set_function("crash_here");
    report.mutable_core()->set_state(v1::CORE_STATE_STORED);
    report.mutable_core()->set_path("core.zst");
    report.mutable_core()->set_raw_bytes(4096);
    report.set_fingerprint(fingerprint);
    writeEntry(id, report.SerializeAsString());
    return id;
  }

  void writeEntry(const std::string& id, const std::string& report_bytes) {
    const std::string entry_dir = spool + "/" + id;
    fs::create_directories(entry_dir);
    std::ofstream(entry_dir + "/report.pb") << report_bytes;
    std::ofstream(entry_dir + "/core.zst") << "core bytes";
  }

  CrashIndexPtr index() const { return publisher.current(); }
  IncidentPtr only() const {
    REQUIRE(index()->incidents.size() == 1);
    return index()->incidents.front();
  }
  std::string recordFile(const std::string& id, const char* name) const {
    return dir.path() + "/crash/" + id + "/" + name;
  }

  TempDir dir{"vigie-crash-tracker"};
  std::string spool = dir.path() + "/crash/spool";
  FakeDispatcher dispatcher;
  FakeSpawner spawner{dispatcher};
  NullObserver next;
  IncidentStore store{dir.path() + "/crash", spool};
  StoreWorker worker{dispatcher, StoreWorker::InlineForTest{}};
  CrashIndexPublisher publisher;
  std::unique_ptr<IncidentTracker> tracker;
  std::unique_ptr<Supervisor> supervisor;
  int entries = 0;
};

TEST_CASE("crash tracker: a non-success exit code opens a no-core incident, written to disk") {
  Rig rig;
  rig.add("web");
  const pid_t pid = rig.spawner.latest->pid();
  rig.spawner.exitLatestWithCode(3);
  rig.dispatcher.runPosted();
  const IncidentPtr incident = rig.only();
  CHECK(incident->status() == v1::INCIDENT_STATUS_NO_CORE);
  CHECK(incident->unit() == "web");
  CHECK(incident->instance_id() == 1);
  CHECK(incident->reason() == "exited");
  CHECK(incident->exit_code() == 3);
  CHECK(incident->pid() == pid);
  CHECK(incident->spec_hash().size() == 16);
  CHECK_FALSE(incident->fingerprint().empty());
  CHECK(coredump::isCaptureId(incident->id()));
  const std::string json = *readWholeFile(rig.recordFile(incident->id(), kIncidentFile), 1 << 20);
  CHECK(json.find("\"status\": \"INCIDENT_STATUS_NO_CORE\"") != std::string::npos);
  struct stat st {};
  REQUIRE(::stat((rig.dir.path() + "/crash").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("crash tracker: the supervisor's reading of an end names the incident's reason") {
  Rig rig;
  Unit& unit = rig.add("web");
  auto ended = [](ExitStatus::Kind kind, int signal) {
    InstanceRecord instance(7, 64);
    instance.pid = 4242;
    ExitStatus exit;
    exit.kind = kind;
    exit.signal = signal;
    instance.exit = exit;
    return instance;
  };
  const WallTime now = rig.dispatcher.wallNow();

  InstanceRecord hung = ended(ExitStatus::Kind::kDumped, SIGABRT);
  hung.health.end_reason = EndReason::kWatchdog;
  v1::CrashIncident incident = incidentForInstance(unit, hung, "a", true, now);
  CHECK(incident.reason() == "watchdog");
  CHECK(incident.signal_name() == "SIGABRT");

  InstanceRecord unhealthy = ended(ExitStatus::Kind::kKilled, SIGTERM);
  unhealthy.health.end_reason = EndReason::kLiveness;
  CHECK(incidentForInstance(unit, unhealthy, "b", false, now).reason() == "liveness");

  InstanceRecord oom = ended(ExitStatus::Kind::kKilled, SIGKILL);
  oom.oom_killed = true;
  CHECK(incidentForInstance(unit, oom, "c", false, now).reason() == "oom-killed");

  // Without the supervisor's reading, the raw status names it.
  CHECK(incidentForInstance(unit, ended(ExitStatus::Kind::kKilled, SIGKILL), "d", false, now)
            .reason() == "signaled");
  CHECK(incidentForInstance(unit, ended(ExitStatus::Kind::kDumped, SIGSEGV), "e", true, now)
            .reason() == "core-dumped");
}

TEST_CASE("crash tracker: a success exit and a stop are no incidents") {
  Rig rig;
  Unit& unit = rig.add("web");
  rig.spawner.exitLatestWithCode(0);
  rig.dispatcher.runPosted();
  unit.stop();
  rig.spawner.killLatest(SIGTERM);
  rig.dispatcher.runPosted();
  CHECK(rig.index()->incidents.empty());
}

TEST_CASE("crash tracker: a core dump is pending until the helper's report completes it") {
  Rig rig;
  rig.add("web");
  const pid_t pid = rig.spawner.latest->pid();
  const uint64_t ticks = rig.spawner.latest->startTicks();
  rig.spawner.killLatest(SIGSEGV, /*core=*/true);
  rig.dispatcher.runPosted();
  CHECK(rig.only()->status() == v1::INCIDENT_STATUS_PENDING);
  CHECK(rig.only()->signal_name() == "SIGSEGV");
  CHECK(rig.only()->reason() == "core-dumped");

  const std::string entry = rig.spoolEntry(pid, ticks);
  rig.tracker->onSpoolEntry(entry);
  rig.dispatcher.runPosted();
  const IncidentPtr incident = rig.only();
  CHECK(incident->status() == v1::INCIDENT_STATUS_COMPLETE);
  CHECK(incident->capture_id() == entry);
  CHECK(incident->backtrace().threads(0).frames(0).function() == "crash_here");
  CHECK(incident->core_path() == "core.zst");
  CHECK(fs::exists(rig.recordFile(incident->id(), kCoreFile)));
  CHECK(fs::exists(rig.recordFile(incident->id(), kReportFile)));
  CHECK_FALSE(fs::exists(rig.spool + "/" + entry));
  CHECK(rig.tracker->pendingForTest() == 0);
  auto fd = openIncidentFile(*rig.index(), incident->id(), kCoreFile);
  CHECK(fd);
  CHECK_FALSE(openIncidentFile(*rig.index(), incident->id(), "../../etc/passwd"));
}

TEST_CASE("crash tracker: a report that comes before the exit still completes the incident") {
  Rig rig;
  rig.add("web");
  const pid_t pid = rig.spawner.latest->pid();
  const std::string entry = rig.spoolEntry(pid, rig.spawner.latest->startTicks());
  rig.tracker->onSpoolEntry(entry);
  rig.dispatcher.runPosted();
  CHECK(rig.index()->incidents.empty());  // held for the exit, not a node-level crash.
  rig.spawner.killLatest(SIGSEGV, true);
  rig.dispatcher.runPosted();
  CHECK(rig.only()->status() == v1::INCIDENT_STATUS_COMPLETE);
  CHECK(rig.only()->unit() == "web");
  CHECK(rig.tracker->pendingForTest() == 0);
}

TEST_CASE("crash tracker: a report with the pid but another start time is not the instance's") {
  Rig rig;
  rig.add("web");
  const pid_t pid = rig.spawner.latest->pid();
  rig.spawner.killLatest(SIGSEGV, true);
  rig.dispatcher.runPosted();
  rig.tracker->onSpoolEntry(rig.spoolEntry(pid, 1));  // a reused pid
  rig.dispatcher.runPosted();
  REQUIRE(rig.index()->incidents.size() == 2);
  int node_level = 0;
  for (const auto& incident : rig.index()->incidents) {
    node_level += incident->node_level() ? 1 : 0;
    if (!incident->node_level()) {
      CHECK(incident->status() == v1::INCIDENT_STATUS_PENDING);
    }
  }
  CHECK(node_level == 1);
}

TEST_CASE("crash tracker: a crash in an instance's session is recorded against its unit") {
  Rig rig;
  rig.add("web");
  const pid_t leader = rig.spawner.latest->pid();
  rig.tracker->onSpoolEntry(rig.spoolEntry(99999, 5, "f00d", leader));
  rig.dispatcher.runPosted();
  const IncidentPtr incident = rig.only();
  CHECK(incident->unit() == "web");
  CHECK(incident->descendant());
  CHECK_FALSE(incident->node_level());
  CHECK(incident->pid() == 99999);
}

TEST_CASE("crash tracker: a process that is no unit's gives a node-level record") {
  Rig rig;
  const std::string entry = rig.spoolEntry(4242, 77);
  rig.tracker->onSpoolEntry(entry);
  rig.dispatcher.runPosted();
  const IncidentPtr incident = rig.only();
  CHECK(incident->node_level());
  CHECK(incident->id() == entry);
  CHECK(incident->status() == v1::INCIDENT_STATUS_COMPLETE);
  CHECK(fs::exists(rig.recordFile(entry, kCoreFile)));
}

TEST_CASE("crash tracker: a garbage report gives an error record") {
  Rig rig;
  const std::string entry = coredump::makeCaptureId(1700000000, 77, 0x1234u);
  rig.writeEntry(entry, std::string("\xff\xff\xff garbage", 12));
  rig.tracker->onSpoolEntry(entry);
  rig.tracker->onSpoolEntry("not-an-entry");
  rig.dispatcher.runPosted();
  const IncidentPtr incident = rig.only();
  CHECK(incident->status() == v1::INCIDENT_STATUS_CAPTURE_FAILED);
  REQUIRE(incident->errors_size() == 1);
  CHECK(incident->errors(0).message().find("not a CaptureReport") != std::string::npos);
}

TEST_CASE("crash tracker: no report within report_timeout marks the incident timed out") {
  Rig rig;
  rig.add("web");
  const pid_t pid = rig.spawner.latest->pid();
  const uint64_t ticks = rig.spawner.latest->startTicks();
  rig.spawner.killLatest(SIGABRT, true);
  rig.dispatcher.runPosted();
  rig.dispatcher.advance(std::chrono::seconds(31));
  rig.dispatcher.runPosted();
  CHECK(rig.only()->status() == v1::INCIDENT_STATUS_TIMED_OUT);
  // A late report still lands on it.
  rig.tracker->onSpoolEntry(rig.spoolEntry(pid, ticks));
  rig.dispatcher.runPosted();
  CHECK(rig.only()->status() == v1::INCIDENT_STATUS_COMPLETE);
}

TEST_CASE("crash tracker: records and pending incidents survive a restart, temp dirs do not") {
  Rig rig;
  rig.add("web");
  const pid_t pid = rig.spawner.latest->pid();
  const uint64_t ticks = rig.spawner.latest->startTicks();
  rig.spawner.killLatest(SIGSEGV, true);
  rig.dispatcher.runPosted();
  const std::string id = rig.only()->id();
  fs::create_directories(rig.dir.path() + "/crash/.tmp-20261129T000000Z-1-00000000");
  // The report arrives while vigied is down: it waits in the spool.
  const std::string entry = rig.spoolEntry(pid, ticks);

  rig.reset();
  CHECK_FALSE(fs::exists(rig.dir.path() + "/crash/.tmp-20261129T000000Z-1-00000000"));
  const IncidentPtr incident = rig.only();
  CHECK(incident->id() == id);
  CHECK(incident->status() == v1::INCIDENT_STATUS_COMPLETE);
  CHECK(incident->capture_id() == entry);
}

TEST_CASE("crash tracker: retention keeps the first and latest cores of a fingerprint") {
  CrashRetentionSpec retention;
  retention.cores_per_fingerprint = 2;
  retention.keep_free = 0;
  retention.max_age = Duration::zero();
  Rig rig(retention);
  for (int i = 0; i < 5; ++i) {
    rig.tracker->onSpoolEntry(rig.spoolEntry(5000 + i, 1));
    rig.dispatcher.runPosted();
  }
  rig.dispatcher.runPosted();
  const CrashIndexPtr index = rig.index();
  REQUIRE(index->incidents.size() == 5);
  int with_core = 0;
  for (const auto& incident : index->incidents) {
    with_core += incident->core_removed() ? 0 : 1;
    CHECK(fs::exists(rig.recordFile(incident->id(), kCoreFile)) == !incident->core_removed());
  }
  CHECK(with_core == 2);
  CHECK_FALSE(index->incidents.front()->core_removed());
  CHECK_FALSE(index->incidents.back()->core_removed());
  REQUIRE(index->groups.size() == 1);
  CHECK(index->groups[0].count == 5);
  CHECK(index->groups[0].cores_removed == 3);
  CHECK(index->groups[0].first_id == index->incidents.front()->id());
  CHECK(index->groups[0].last_id == index->incidents.back()->id());
}

}  // namespace
}  // namespace vigie::crash
