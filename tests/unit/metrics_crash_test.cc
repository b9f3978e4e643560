// The crash families, fed the way vigied feeds them: a real IncidentTracker on a temp store
// (fake clock, fake processes, the store's jobs run inline) tells CrashMetrics what it learns,
// and the exposition text says what Prometheus would scrape.
#include <doctest/doctest.h>
#include <google/protobuf/util/time_util.h>
#include <prometheus/registry.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "agent/coredump/capture_id.h"
#include "agent/crash/incident_tracker.h"
#include "agent/metrics/crash_metrics.h"
#include "agent/metrics/exposition.h"
#include "agent/metrics/unit_metrics.h"
#include "agent/supervisor/supervisor.h"
#include "tests/fakes/fake_dispatcher.h"
#include "tests/fakes/fake_spawner.h"
#include "tests/fakes/metrics_text.h"
#include "tests/fakes/null_observer.h"
#include "tests/fakes/temp_dir.h"

namespace vigie {
namespace {

namespace fs = std::filesystem;
namespace pbu = google::protobuf::util;
using crash::CorePatternState;
using crash::IncidentTracker;
using testing::sample;
using testing::sampleValue;

struct Rig {
  Rig() {
    CrashRetentionSpec retention;
    retention.keep_free = 0;  // whatever the test machine's disk holds
    retention.cores_per_fingerprint = 1;
    tracker = std::make_unique<IncidentTracker>(
        units, dispatcher, store, worker, publisher,
        IncidentTracker::Options{std::chrono::seconds(30), retention});
    tracker->setEvents(&metrics);
    tracker->setCoreExpected(true);
    supervisor = std::make_unique<Supervisor>(
        dispatcher, spawner, *tracker, [] { return 0.0; },
        std::vector<std::string>{"PATH=/usr/bin:/bin"});
    units.track(*supervisor);
    tracker->start();
    settle();
  }

  void settle() {
    for (int turn = 0; turn < 4; ++turn) {
      dispatcher.runPosted();
    }
  }

  static AgentConfig configOf(const std::vector<std::string>& names) {
    AgentConfig config;
    for (const auto& name : names) {
      WorkloadSpec spec;
      spec.name = name;
      spec.exec = {"/usr/bin/server"};
      config.workloads.push_back(spec);
    }
    return config;
  }
  void start(const std::string& name) {
    supervisor->load(configOf({name}));
    supervisor->startAll();
    settle();
  }
  // Past the backoff: the next instance runs.
  void restart() {
    dispatcher.advance(std::chrono::seconds(2));
    settle();
  }

  // A spool entry as vigie-coredump publishes it, with its timings, named to the tracker.
  void report(pid_t pid, uint64_t ticks, v1::CoreState state, const std::string& fingerprint) {
    v1::CaptureReport report;
    ++entries;
    const std::string id = coredump::makeCaptureId(1700000000 + entries, pid,
                                                   0xabc00000u + static_cast<uint32_t>(entries));
    report.set_id(id);
    report.set_outcome(v1::CAPTURE_OUTCOME_COMPLETE);
    report.set_signal(SIGSEGV);
    report.mutable_process()->set_pid(pid);
    report.mutable_process()->set_start_time_ticks(ticks);
    report.set_fingerprint(fingerprint);
    auto* timings = report.mutable_timings();
    *timings->mutable_proc_read() = pbu::TimeUtil::MillisecondsToDuration(1);
    *timings->mutable_drain() = pbu::TimeUtil::MillisecondsToDuration(250);
    *timings->mutable_symbolize() = pbu::TimeUtil::MillisecondsToDuration(200);
    *timings->mutable_compress() = pbu::TimeUtil::MillisecondsToDuration(300);
    *timings->mutable_total() = pbu::TimeUtil::MillisecondsToDuration(600);
    report.mutable_core()->set_state(state);
    report.mutable_core()->set_raw_bytes(1 << 20);
    if (state == v1::CORE_STATE_STORED) {
      report.mutable_core()->set_path("core.zst");
      report.mutable_core()->set_stored_bytes(1000);
    }
    const std::string entry_dir = spool + "/" + id;
    fs::create_directories(entry_dir);
    std::ofstream(entry_dir + "/report.pb") << report.SerializeAsString();
    if (state == v1::CORE_STATE_STORED) {
      std::ofstream(entry_dir + "/core.zst") << std::string(64 << 10, 'c');
    }
    tracker->onSpoolEntry(id);
    settle();
  }

  std::string text() const { return exposition({&registry}); }
  double value(const std::string& series) const { return sampleValue(text(), series); }
  bool has(const std::string& series) const { return sample(text(), series).has_value(); }
  double crashes(const std::string& unit, const std::string& reason) const {
    return value("vigie_crashes_total{reason=\"" + reason + "\",unit=\"" + unit + "\"}");
  }

  testing::TempDir dir{"vigie-crash-metrics"};
  std::string spool = dir.path() + "/crash/spool";
  testing::FakeDispatcher dispatcher;
  testing::FakeSpawner spawner{dispatcher};
  testing::NullObserver next;
  prometheus::Registry registry;
  CrashMetrics metrics{registry};
  UnitMetrics units{next, registry, dispatcher, &metrics};
  crash::IncidentStore store{dir.path() + "/crash", spool};
  crash::StoreWorker worker{dispatcher, crash::StoreWorker::InlineForTest{}};
  crash::CrashIndexPublisher publisher;
  std::unique_ptr<IncidentTracker> tracker;
  std::unique_ptr<Supervisor> supervisor;
  int entries = 0;
};

TEST_CASE("crash metrics: every family is there from the start, at zero") {
  Rig rig;
  const std::string text = rig.text();
  for (const char* family :
       {"vigie_crashes_total counter", "vigie_core_pattern_drift gauge",
        "vigie_crash_capture_duration_seconds histogram",
        "vigie_crash_capture_stage_duration_seconds histogram", "vigie_crash_cores_total counter",
        "vigie_crash_core_raw_bytes_total counter", "vigie_crash_core_stored_bytes_total counter",
        "vigie_crash_store_bytes gauge", "vigie_crash_store_removals_total counter"}) {
    CHECK_MESSAGE(text.find(std::string("# TYPE ") + family) != std::string::npos, family);
  }
  CHECK(rig.crashes("", "core-dumped") == 0);
  CHECK(rig.value("vigie_core_pattern_drift") == 0);
  CHECK(rig.value("vigie_crash_capture_duration_seconds_count") == 0);
  CHECK(rig.value(R"(vigie_crash_capture_stage_duration_seconds_count{stage="drain"})") == 0);
  for (const char* outcome :
       {"stored", "disabled", "truncated", "rate_limited", "empty", "failed", "timed_out"}) {
    CHECK(rig.value(std::string("vigie_crash_cores_total{outcome=\"") + outcome + "\"}") == 0);
  }
  CHECK(rig.value(R"(vigie_crash_store_removals_total{kind="core"})") == 0);
}

TEST_CASE("crash metrics: a unit's crashes are counted by reason, from zero") {
  Rig rig;
  rig.start("web");
  for (const char* reason : {"exited", "signaled", "core-dumped", "lost"}) {
    CHECK(rig.crashes("web", reason) == 0);
  }
  rig.spawner.exitLatestWithCode(3);
  rig.restart();
  CHECK(rig.crashes("web", "exited") == 1);
  rig.spawner.killLatest(SIGSEGV, /*core=*/true);
  rig.restart();
  CHECK(rig.crashes("web", "core-dumped") == 1);
  rig.spawner.killLatest(SIGKILL);
  rig.restart();
  CHECK(rig.crashes("web", "signaled") == 1);
  CHECK(rig.crashes("web", "exited") == 1);
  CHECK(rig.crashes("", "core-dumped") == 0);
  // A reload that removes the unit removes its series, like every per-unit series.
  rig.supervisor->reload(Rig::configOf({"db"}));
  rig.units.syncUnits();
  rig.settle();
  CHECK_FALSE(rig.has(R"(vigie_crashes_total{reason="exited",unit="web"})"));
  CHECK(rig.crashes("db", "exited") == 0);
}

TEST_CASE("crash metrics: a report feeds the capture histograms, core bytes and outcomes") {
  Rig rig;
  rig.report(4242, 7, v1::CORE_STATE_STORED, "f00d");  // no unit's: a node-level crash
  CHECK(rig.crashes("", "core-dumped") == 1);
  CHECK(rig.value("vigie_crash_capture_duration_seconds_count") == 1);
  CHECK(rig.value("vigie_crash_capture_duration_seconds_sum") == doctest::Approx(0.6));
  CHECK(rig.value(R"(vigie_crash_capture_duration_seconds_bucket{le="0.5"})") == 0);
  CHECK(rig.value(R"(vigie_crash_capture_duration_seconds_bucket{le="1"})") == 1);
  CHECK(rig.value(R"(vigie_crash_capture_stage_duration_seconds_sum{stage="drain"})") ==
        doctest::Approx(0.25));
  CHECK(rig.value(R"(vigie_crash_capture_stage_duration_seconds_count{stage="compress"})") == 1);
  CHECK(rig.value("vigie_crash_core_raw_bytes_total") == 1 << 20);
  CHECK(rig.value("vigie_crash_core_stored_bytes_total") == 1000);
  CHECK(rig.value(R"(vigie_crash_cores_total{outcome="stored"})") == 1);

  rig.report(4243, 7, v1::CORE_STATE_RATE_LIMITED, "beef");
  rig.report(4244, 7, v1::CORE_STATE_TRUNCATED, "cafe");
  rig.report(4245, 7, v1::CORE_STATE_TIMED_OUT, "face");
  CHECK(rig.crashes("", "core-dumped") == 4);
  CHECK(rig.value(R"(vigie_crash_cores_total{outcome="rate_limited"})") == 1);
  CHECK(rig.value(R"(vigie_crash_cores_total{outcome="truncated"})") == 1);
  CHECK(rig.value(R"(vigie_crash_cores_total{outcome="timed_out"})") == 1);
  CHECK(rig.value("vigie_crash_core_raw_bytes_total") == 4 << 20);
  CHECK(rig.value("vigie_crash_core_stored_bytes_total") == 1000);
  CHECK(rig.value("vigie_crash_capture_duration_seconds_count") == 4);
}

TEST_CASE("crash metrics: a report that cannot be read is a crash of unknown reason") {
  Rig rig;
  const std::string id = coredump::makeCaptureId(1700000000, 77, 0x1234u);
  fs::create_directories(rig.spool + "/" + id);
  std::ofstream(rig.spool + "/" + id + "/report.pb") << "\xff\xff\xff garbage";
  rig.tracker->onSpoolEntry(id);
  rig.settle();
  CHECK(rig.crashes("", "unknown") == 1);
  CHECK(rig.value("vigie_crash_capture_duration_seconds_count") == 0);
}

TEST_CASE("crash metrics: the store's size follows records, cores and retention") {
  Rig rig;
  rig.start("web");
  const pid_t pid = rig.spawner.latest->pid();
  const uint64_t ticks = rig.spawner.latest->startTicks();
  rig.spawner.killLatest(SIGSEGV, true);
  rig.settle();
  const double metadata_only = rig.value("vigie_crash_store_bytes");
  CHECK(metadata_only > 0);
  // The report completes the pending incident and brings its 64 KiB core into the record.
  rig.report(pid, ticks, v1::CORE_STATE_STORED, "f00d");
  const double with_core = rig.value("vigie_crash_store_bytes");
  CHECK(with_core >= metadata_only + (64 << 10));
  CHECK(rig.crashes("web", "core-dumped") == 1);  // the report completes it: no second crash
  CHECK(rig.crashes("", "core-dumped") == 0);
  // Two more cores of the same fingerprint: one core per fingerprint is kept (the first).
  rig.report(5000, 1, v1::CORE_STATE_STORED, "f00d");
  rig.report(5001, 1, v1::CORE_STATE_STORED, "f00d");
  CHECK(rig.value(R"(vigie_crash_store_removals_total{kind="core"})") == 2);
  CHECK(rig.value(R"(vigie_crash_store_removals_total{kind="record"})") == 0);
  CHECK(rig.value("vigie_crash_store_bytes") < with_core + 2 * (64 << 10));
}

TEST_CASE("crash metrics: the drift gauge is 1 only while a managed pattern is not ours") {
  Rig rig;
  CorePatternState state;
  state.managed = true;
  state.installed = true;
  rig.tracker->setCorePattern(state);
  CHECK(rig.value("vigie_core_pattern_drift") == 0);
  state.drift = true;
  rig.tracker->setCorePattern(state);
  CHECK(rig.value("vigie_core_pattern_drift") == 1);
  state.drift = false;
  rig.tracker->setCorePattern(state);
  CHECK(rig.value("vigie_core_pattern_drift") == 0);
  state.managed = false;  // crash.core_pattern: leave
  state.drift = true;
  rig.tracker->setCorePattern(state);
  CHECK(rig.value("vigie_core_pattern_drift") == 0);
}

}  // namespace
}  // namespace vigie
