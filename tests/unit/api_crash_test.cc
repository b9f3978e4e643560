// The API's crash side as pure logic: summaries, revisions and tombstones in the snapshot,
// heartbeat diffs, crash events, id prefixes, ListCrashes filters and GetCrash's environment.
#include <doctest/doctest.h>

#include "agent/api/crash_convert.h"
#include "agent/api/crash_state.h"
#include "agent/api/heartbeat.h"
#include "agent/api/service/crash_queries.h"
#include "agent/api/snapshot_publisher.h"
#include "tests/fakes/crash_records.h"
#include "tests/fakes/temp_dir.h"

namespace vigie {
namespace {

using testing::crashIncident;
using testing::crashIndex;

constexpr const char* kA = "20240501T000010Z-100-aaaaaaaa";
constexpr const char* kB = "20240501T000020Z-200-bbbbbbbb";
constexpr const char* kC = "20240501T000030Z-300-cccccccc";

ClockMapping clockAt(int seconds) {
  return ClockMapping{MonoTime{} + std::chrono::seconds(seconds),
                      WallTime{} + std::chrono::seconds(seconds)};
}

v1::HeartbeatRequest since(const NodeSnapshot& snapshot, uint64_t revision) {
  v1::HeartbeatRequest request;
  request.mutable_since()->set_epoch(snapshot.epoch);
  request.mutable_since()->set_revision(revision);
  return request;
}

std::vector<std::string> ids(const google::protobuf::RepeatedPtrField<v1::CrashSummary>& crashes) {
  std::vector<std::string> out;
  for (const auto& crash : crashes) {
    out.push_back(crash.id());
  }
  return out;
}

TEST_CASE("api crash: a summary names the crashing function past the signal machinery") {
  v1::CrashIncident incident = crashIncident(kA, "web", 10);
  v1::CrashSummary summary;
  fillCrashSummary(incident, &summary);
  CHECK(summary.id() == kA);
  CHECK(summary.unit() == "web");
  CHECK(summary.signal_name() == "SIGSEGV");
  CHECK(summary.crashing_function() == "level3");
  CHECK(summary.core_available());
  CHECK(summary.time().seconds() == 1714521610);

  auto* frames = incident.mutable_backtrace()->mutable_threads(0)->mutable_frames();
  frames->Mutable(0)->set_function("raise");
  frames->Mutable(1)->set_function("abort");
  CHECK(crashingFunction(incident.backtrace()) == "main");
  CHECK(crashingFunction(v1::Backtrace()) == "");

  // The same frames as the fingerprint skips: an uncaught exception names its thrower.
  v1::Backtrace thrown;
  auto* thread = thrown.add_threads();
  thread->set_crashed(true);
  for (const char* name : {"raise", "abort", "__gnu_cxx::__verbose_terminate_handler()",
                           "std::terminate()", "__cxa_throw", "parse_request", "main"}) {
    thread->add_frames()->set_function(name);
  }
  CHECK(crashingFunction(thrown) == "parse_request");
}

TEST_CASE("api crash: why there is no core, in words") {
  v1::CrashIncident incident = crashIncident(kA, "web", 10);
  CHECK(coreMissingReason(incident) == "");
  incident.set_core_removed(true);
  CHECK(coreMissingReason(incident).find("retention removed the core") == 0);
  incident.set_core_removed(false);
  incident.set_core_state(v1::CORE_STATE_DISABLED);
  CHECK(coreMissingReason(incident).find("RLIMIT_CORE 0") != std::string::npos);
  incident.set_core_state(v1::CORE_STATE_TRUNCATED);
  CHECK(coreMissingReason(incident).find("over the size limit") != std::string::npos);
  incident.set_core_state(v1::CORE_STATE_RATE_LIMITED);
  CHECK(coreMissingReason(incident).find("crash.rate_limit") != std::string::npos);

  v1::CrashIncident exited = crashIncident(kB, "web", 20, v1::INCIDENT_STATUS_NO_CORE);
  exited.set_reason("exited");
  exited.set_exit_code(3);
  CHECK(coreMissingReason(exited) == "the process exited with code 3, which dumps no core");
  v1::CrashIncident pending = crashIncident(kC, "web", 30, v1::INCIDENT_STATUS_PENDING);
  CHECK(coreMissingReason(pending).find("still being captured") != std::string::npos);
}

TEST_CASE("api crash: incidents get revisions like units, and leave tombstones") {
  SnapshotPublisher publisher(0x77);
  REQUIRE(publisher.publish({}, clockAt(1), crashIndex({crashIncident(kA, "web", 10)}).get()));
  const uint64_t first = publisher.latest().revision;
  REQUIRE(publisher.latest().crashes.entries.size() == 1);
  CHECK(publisher.latest().crashes.entries[0].revision == first);

  SUBCASE("an index with the same content moves nothing") {
    CHECK(publisher.publish({}, clockAt(2),
                            crashIndex({crashIncident(kA, "web", 10)}, "/x", 2).get()));
    CHECK(publisher.latest().revision == first);  // republished (a newer index), same revision
    CHECK_FALSE(publisher.publish({}, clockAt(3),
                                  crashIndex({crashIncident(kA, "web", 10)}, "/x", 2).get()));
    const auto diff = buildHeartbeat(publisher.latest(), since(publisher.latest(), first), nullptr);
    CHECK(diff.crashes_size() == 0);
    CHECK(diff.ByteSizeLong() == 13);  // an idle heartbeat is still only the version
  }
  SUBCASE("a new incident and a changed one are in the next diff, the old one is not") {
    v1::CrashIncident changed = crashIncident(kA, "web", 10);
    changed.set_core_removed(true);
    publisher.publish(
        {}, clockAt(2),
        crashIndex({crashIncident(kB, "db", 20), crashIncident(kC, "web", 30)}, "/x", 2).get());
    const uint64_t second = publisher.latest().revision;
    CHECK(second == first + 1);
    publisher.publish(
        {}, clockAt(3),
        crashIndex({changed, crashIncident(kB, "db", 20), crashIncident(kC, "web", 30)}, "/x", 3)
            .get());
    const NodeSnapshot& now = publisher.latest();
    // kA was removed at `second` (it was not in that index), then came back changed.
    auto diff = buildHeartbeat(now, since(now, second), nullptr);
    CHECK(ids(diff.crashes()) == std::vector<std::string>{kA});
    CHECK(diff.crashes(0).core_removed());
    CHECK(diff.crashes(0).revision() == now.revision);
    diff = buildHeartbeat(now, since(now, first), nullptr);
    CHECK(ids(diff.crashes()) == std::vector<std::string>{kA, kB, kC});
    CHECK(diff.removed_crashes_size() == 0);  // kA is back: its tombstone is superseded
  }
  SUBCASE("an incident retention removed is a tombstone in the diff, not in a full state") {
    publisher.publish({}, clockAt(2), crashIndex({crashIncident(kB, "db", 20)}, "/x", 2).get());
    const NodeSnapshot& now = publisher.latest();
    auto diff = buildHeartbeat(now, since(now, first), nullptr);
    CHECK(ids(diff.crashes()) == std::vector<std::string>{kB});
    REQUIRE(diff.removed_crashes_size() == 1);
    CHECK(diff.removed_crashes(0).name() == kA);
    CHECK(diff.removed_crashes(0).revision() == now.revision);
    const auto full = buildHeartbeat(now, v1::HeartbeatRequest(), nullptr);
    CHECK(full.full_state());
    CHECK(ids(full.crashes()) == std::vector<std::string>{kB});
    CHECK(full.removed_crashes_size() == 0);
  }
}

TEST_CASE("api crash: an incident being written keeps its shown version, a new one waits") {
  SnapshotPublisher publisher(0x77);
  publisher.publish({}, clockAt(1),
                    crashIndex({crashIncident(kA, "web", 10, v1::INCIDENT_STATUS_PENDING)}).get());
  const uint64_t first = publisher.latest().revision;
  // kA completes and kB opens, both still queued for the disk.
  publisher.publish(
      {}, clockAt(2),
      crashIndex({crashIncident(kA, "web", 10), crashIncident(kB, "web", 20)}, "/x", 2, {kA, kB})
          .get());
  const CrashState& writing = publisher.latest().crashes;
  REQUIRE(writing.entries.size() == 1);
  CHECK(writing.entries[0].summary->status() == v1::INCIDENT_STATUS_PENDING);
  CHECK(publisher.latest().revision == first);
  // Written: both appear, at a new revision.
  publisher.publish(
      {}, clockAt(3),
      crashIndex({crashIncident(kA, "web", 10), crashIncident(kB, "web", 20)}, "/x", 3).get());
  const CrashState& written = publisher.latest().crashes;
  REQUIRE(written.entries.size() == 2);
  CHECK(written.entries[0].summary->status() == v1::INCIDENT_STATUS_COMPLETE);
  CHECK(publisher.latest().revision == first + 1);
}

TEST_CASE("api crash: events for incidents that open and settle, none for the store's records") {
  CrashState empty;
  CrashState loaded;
  REQUIRE(
      nextCrashState(empty, *crashIndex({crashIncident(kA, "web", 10)}), 1, MonoTime{}, loaded));
  SUBCASE("the records read at start are not news") {
    CHECK(crashEvents(empty, loaded, WallTime{}).empty());
  }
  SUBCASE("a new pending incident opens, then completes") {
    CrashState opened;
    nextCrashState(loaded,
                   *crashIndex({crashIncident(kA, "web", 10),
                                crashIncident(kB, "db", 20, v1::INCIDENT_STATUS_PENDING)}),
                   2, MonoTime{}, opened);
    auto events = crashEvents(loaded, opened, WallTime{});
    REQUIRE(events.size() == 1);
    REQUIRE(events[0].has_crash_opened());
    CHECK(events[0].crash_opened().crash().id() == kB);
    CHECK(events[0].crash_opened().crash().unit() == "db");

    CrashState completed;
    nextCrashState(opened, *crashIndex({crashIncident(kA, "web", 10), crashIncident(kB, "db", 20)}),
                   3, MonoTime{}, completed);
    events = crashEvents(opened, completed, WallTime{});
    REQUIRE(events.size() == 1);
    REQUIRE(events[0].has_crash_completed());
    CHECK(events[0].crash_completed().crash().status() == v1::INCIDENT_STATUS_COMPLETE);
    CHECK(events[0].crash_completed().crash().revision() == 3);
  }
  SUBCASE("an incident that opens settled gets both events") {
    CrashState next;
    nextCrashState(loaded, *crashIndex({crashIncident(kA, "web", 10), crashIncident(kC, "", 30)}),
                   2, MonoTime{}, next);
    const auto events = crashEvents(loaded, next, WallTime{});
    REQUIRE(events.size() == 2);
    CHECK(events[0].has_crash_opened());
    CHECK(events[1].has_crash_completed());
    CHECK(events[1].crash_completed().crash().node_level());
  }
}

NodeSnapshot snapshotOf(const crash::CrashIndex& index) {
  NodeSnapshot snapshot;
  snapshot.epoch = 0x77;
  snapshot.revision = 5;
  nextCrashState(CrashState{}, index, 5, MonoTime{}, snapshot.crashes);
  return snapshot;
}

TEST_CASE("api crash: ids resolve whole or by a unique prefix, like git") {
  const NodeSnapshot snapshot = snapshotOf(*crashIndex(
      {crashIncident(kA, "web", 10), crashIncident(kB, "web", 20), crashIncident(kC, "web", 30)}));
  const CrashEntry* found = nullptr;
  CHECK(findCrash(snapshot.crashes, kB, &found).ok());
  REQUIRE(found != nullptr);
  CHECK(found->incident->id() == kB);
  CHECK(findCrash(snapshot.crashes, "20240501T00003", &found).ok());
  CHECK(found->incident->id() == kC);

  const grpc::Status ambiguous = findCrash(snapshot.crashes, "20240501T0000", &found);
  CHECK(ambiguous.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(ambiguous.error_message() ==
        std::string("\"20240501T0000\" is ambiguous: it starts 3 incident ids (") + kA + ", " + kB +
            ", " + kC + "); give more of the id");
  CHECK(found == nullptr);

  const grpc::Status missing = findCrash(snapshot.crashes, "2023", &found);
  CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(missing.error_message() ==
        std::string("no crash incident matches \"2023\": 3 incident(s) on record, the newest is ") +
            kC);
  CHECK(findCrash(snapshot.crashes, "", &found).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("api crash: ListCrashes filters, newest first, with a limit and the groups") {
  v1::CrashIncident exited = crashIncident(kB, "db", 20, v1::INCIDENT_STATUS_NO_CORE, "0011aa");
  exited.set_reason("exited");
  const NodeSnapshot snapshot =
      snapshotOf(*crashIndex({crashIncident(kA, "web", 10), exited, crashIncident(kC, "web", 30)}));
  auto list = [&](const std::function<void(v1::ListCrashesRequest&)>& set) {
    v1::ListCrashesRequest request;
    set(request);
    v1::ListCrashesResponse response;
    const grpc::Status status = listCrashes(snapshot, request, &response);
    REQUIRE_MESSAGE(status.ok(), status.error_message());
    return response;
  };
  auto all = list([](auto&) {});
  CHECK(ids(all.crashes()) == std::vector<std::string>{kC, kB, kA});
  CHECK(all.matched() == 3);
  CHECK(all.version().revision() == 5);
  REQUIRE(all.groups_size() == 2);
  CHECK(all.groups(0).fingerprint() == "0011aa");
  CHECK(all.groups(1).count() == 2);
  CHECK(all.groups(1).first_id() == kA);
  CHECK(all.groups(1).last_id() == kC);

  CHECK(ids(list([](auto& r) { r.set_unit("web"); }).crashes()) ==
        std::vector<std::string>{kC, kA});
  CHECK(ids(list([](auto& r) { r.set_reason("exited"); }).crashes()) ==
        std::vector<std::string>{kB});
  CHECK(ids(list([](auto& r) { r.set_fingerprint("5b1c"); }).crashes()) ==
        std::vector<std::string>{kC, kA});
  CHECK(ids(list([](auto& r) {
              r.mutable_since()->set_seconds(1714521600 + 20);
              r.mutable_until()->set_seconds(1714521600 + 30);
            }).crashes()) == std::vector<std::string>{kB});
  auto limited = list([](auto& r) { r.set_limit(1); });
  CHECK(ids(limited.crashes()) == std::vector<std::string>{kC});
  CHECK(limited.matched() == 3);
  REQUIRE(limited.groups_size() == 1);  // only the listed fingerprints
  CHECK(limited.groups(0).count() == 2);

  v1::ListCrashesRequest bad;
  bad.set_reason("segfault");
  v1::ListCrashesResponse ignored;
  const grpc::Status refused = listCrashes(snapshot, bad, &ignored);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(refused.error_message() ==
        "unknown reason \"segfault\" (exited, signaled, core-dumped or lost)");
  bad.set_reason("");
  bad.set_limit(5000);
  CHECK(listCrashes(snapshot, bad, &ignored).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("api crash: GetCrash reads the report, and keeps the environment for admins") {
  testing::TempDir store("vigie-api-crash");
  v1::CaptureReport report;
  report.set_signal(11);
  report.set_has_signal_info(true);
  report.set_fault_address(0);
  report.mutable_process()->add_environ("PATH=/usr/bin");
  report.mutable_process()->add_environ("API_TOKEN=<redacted>");
  report.mutable_backtrace()->add_threads()->set_tid(4242);
  testing::writeCrashRecord(store.path(), kA, &report, nullptr);
  const NodeSnapshot snapshot =
      snapshotOf(*crashIndex({crashIncident(kA, "web", 10)}, store.path()));
  v1::GetCrashRequest request;
  request.set_id("20240501T000010");

  v1::GetCrashResponse admin;
  REQUIRE(getCrash(snapshot, request, /*admin=*/true, &admin).ok());
  CHECK(admin.incident().id() == kA);
  CHECK(admin.incident().backtrace().threads(0).frames(0).function() == "level3");
  CHECK(admin.report().process().environ_size() == 2);
  CHECK_FALSE(admin.environ_withheld());
  CHECK(admin.report().backtrace().threads_size() == 0);  // it is incident.backtrace
  CHECK(admin.summary().crashing_function() == "level3");
  CHECK(admin.group().count() == 1);

  v1::GetCrashResponse reader;
  REQUIRE(getCrash(snapshot, request, /*admin=*/false, &reader).ok());
  CHECK(reader.report().process().environ_size() == 0);
  CHECK(reader.environ_withheld());
  CHECK(reader.report().has_signal_info());
}

TEST_CASE("api crash: openCore says why there is no core, and opens the one there is") {
  testing::TempDir store("vigie-api-crash");
  const std::string core = "zstd bytes";
  testing::writeCrashRecord(store.path(), kA, nullptr, &core);
  v1::CrashIncident limited = crashIncident(kB, "web", 20);
  limited.set_core_state(v1::CORE_STATE_RATE_LIMITED);
  limited.set_core_path("");
  const NodeSnapshot snapshot = snapshotOf(*crashIndex(
      {crashIncident(kA, "web", 10), limited, crashIncident(kC, "web", 30)}, store.path()));
  UniqueFd fd;
  CHECK(openCore(snapshot.crashes, snapshot.crashes.entries[0], &fd).ok());
  CHECK(fd.valid());
  const grpc::Status none = openCore(snapshot.crashes, snapshot.crashes.entries[1], &fd);
  CHECK(none.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(none.error_message() ==
        std::string("crash ") + kB + " has no core: " + coreMissingReason(limited));
  // Listed with a core, but the file is gone (retention got there first).
  CHECK(openCore(snapshot.crashes, snapshot.crashes.entries[2], &fd).error_code() ==
        grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace vigie
