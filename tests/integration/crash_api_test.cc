// The crash queries against a real vigied and real crashes: a unit segfaults through the real
// core_pattern and vigie-coredump, and the API lists it, shows its backtrace, announces it on
// WatchEvents, carries it in the next Heartbeat diff, and serves a core that gdb opens; a
// read-role client (TCP+mTLS) gets neither the core nor the environment.
//
// In incident_integration_tests: vigied installs its core_pattern (see crash_lab.h).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/integration/crash_lab.h"

namespace vigie::testing {
namespace {

std::unique_ptr<grpc::ClientContext> callContext() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return context;
}

bool hasFrame(const v1::BacktraceThread& thread, const std::string& function) {
  for (const auto& frame : thread.frames()) {
    if (frame.function() == function) {
      return true;
    }
  }
  return false;
}

TEST_CASE("crash api: a segfaulting unit is listed, shown, announced, diffed and debuggable") {
  TempDir dir;
  TestCertificates certificates(dir);
  const int port = freeTcpPort();
  CrashAgent agent(
      dir, triggeredUnit(dir, "seg", "segv_deep", "    env: {VISIBLE_VAR: hello-from-the-unit}\n"),
      certificates.apiSection(port));

  // Subscribed (the headers say so) and synced before the crash.
  auto watch_context = std::make_unique<grpc::ClientContext>();
  watch_context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(180));
  auto watch = agent.admin().WatchEvents(watch_context.get(), v1::WatchEventsRequest());
  watch->WaitForInitialMetadata();
  v1::HeartbeatResponse before;
  REQUIRE(agent.admin().Heartbeat(callContext().get(), v1::HeartbeatRequest(), &before).ok());
  CHECK(before.full_state());
  // (Other processes of the host that crash meanwhile reach this vigied too, as node-level
  // records: the checks below look for the unit's incident among whatever else comes.)
  for (const auto& known : before.crashes()) {
    CHECK(known.unit() != "seg");
  }

  // One crash, then every query in turn (each part in its own block).
  triggerUnit(dir, "seg");
  const v1::CrashSummary crash = agent.waitSettled("seg");
  INFO(agent.log());
  CHECK(crash.status() == v1::INCIDENT_STATUS_COMPLETE);
  CHECK(crash.reason() == "core-dumped");
  CHECK(crash.signal_name() == "SIGSEGV");
  CHECK(crash.crashing_function() == "level3");
  CHECK(crash.core_available());
  CHECK(crash.exe() == crasherPath("segv_deep"));

  {  // ListCrashes: filters and the group
    v1::ListCrashesRequest request;
    request.set_unit("seg");
    request.set_reason("core-dumped");
    request.set_fingerprint(crash.fingerprint().substr(0, 6));
    v1::ListCrashesResponse listed;
    REQUIRE(agent.admin().ListCrashes(callContext().get(), request, &listed).ok());
    REQUIRE(listed.crashes_size() == 1);
    CHECK(listed.crashes(0).id() == crash.id());
    REQUIRE(listed.groups_size() == 1);
    CHECK(listed.groups(0).fingerprint() == crash.fingerprint());
    CHECK(listed.groups(0).count() >= 1);  // the same crasher elsewhere on the host adds to it
    request.set_reason("exited");
    REQUIRE(agent.admin().ListCrashes(callContext().get(), request, &listed).ok());
    CHECK(listed.crashes_size() == 0);
  }

  {  // GetCrash by a prefix: the crashing function in the crashing thread, the environment
    v1::GetCrashRequest request;
    request.set_id(crash.id().substr(0, crash.id().size() - 4));
    v1::GetCrashResponse got;
    const grpc::Status status = agent.admin().GetCrash(callContext().get(), request, &got);
    REQUIRE_MESSAGE(status.ok(), status.error_message());
    CHECK(got.incident().id() == crash.id());
    const v1::Backtrace& backtrace = got.incident().backtrace();
    REQUIRE(backtrace.threads_size() >= 1);
    CHECK(backtrace.threads(0).crashed());
    CHECK_MESSAGE(hasFrame(backtrace.threads(0), "level3"), backtrace.DebugString());
    CHECK(got.report().signal() == 11);
    CHECK(got.report().has_signal_info());
    bool visible = false;
    for (const auto& variable : got.report().process().environ()) {
      visible = visible || variable == "VISIBLE_VAR=hello-from-the-unit";
    }
    CHECK(visible);
    CHECK_FALSE(got.environ_withheld());
    CHECK(got.incident().stdout_tail().empty());
  }

  {  // WatchEvents announced it, opened then completed
    bool opened = false;
    bool completed = false;
    v1::WatchEventsResponse event;
    while (!completed && watch->Read(&event)) {
      if (event.event().has_crash_opened() &&
          event.event().crash_opened().crash().id() == crash.id()) {
        CHECK(event.event().crash_opened().crash().unit() == "seg");
        opened = true;
      }
      if (event.event().has_crash_completed() &&
          event.event().crash_completed().crash().id() == crash.id()) {
        CHECK(opened);
        CHECK(event.event().crash_completed().crash().status() == v1::INCIDENT_STATUS_COMPLETE);
        CHECK(event.event().version().revision() > before.version().revision());
        completed = true;
      }
    }
    CHECK(completed);
  }

  {  // the next Heartbeat diff carries the crash
    v1::HeartbeatRequest request;
    *request.mutable_since() = before.version();
    v1::HeartbeatResponse diff;
    REQUIRE(agent.admin().Heartbeat(callContext().get(), request, &diff).ok());
    CHECK_FALSE(diff.full_state());
    const v1::CrashSummary* carried = nullptr;
    for (const auto& changed : diff.crashes()) {
      carried = changed.id() == crash.id() ? &changed : carried;
    }
    REQUIRE(carried != nullptr);
    CHECK(carried->status() == v1::INCIDENT_STATUS_COMPLETE);
    CHECK(carried->revision() > before.version().revision());
    // Not again in the diff after it: it has not changed since.
    *request.mutable_since() = diff.version();
    REQUIRE(agent.admin().Heartbeat(callContext().get(), request, &diff).ok());
    for (const auto& changed : diff.crashes()) {
      CHECK(changed.id() != crash.id());
    }
  }

  {  // DownloadCore raw is a core gdb opens at the crash
    v1::DownloadCoreRequest request;
    request.set_id(crash.id());
    request.set_raw(true);
    auto context = callContext();
    auto reader = agent.admin().DownloadCore(context.get(), request);
    const std::string core_path = dir.file("downloaded.core");
    std::ofstream core(core_path, std::ios::binary);
    v1::DownloadCoreResponse chunk;
    uint64_t total = 0;
    uint64_t expected = 0;
    while (reader->Read(&chunk)) {
      if (expected == 0) {
        expected = chunk.total_bytes();
        CHECK(chunk.compression() == v1::CORE_COMPRESSION_NONE);
      }
      core << chunk.data();
      total += chunk.data().size();
    }
    core.close();
    const grpc::Status status = reader->Finish();
    REQUIRE_MESSAGE(status.ok(), status.error_message());
    CHECK(total == expected);
    CHECK(total == crash.core_raw_bytes());
    int exit_code = -1;
    const std::string bt = runCapture(
        dir, {"/usr/bin/gdb", "-batch", "-nx", "-ex", "bt", crasherPath("segv_deep"), core_path},
        &exit_code);
    CHECK(exit_code == 0);
    CHECK_MESSAGE(bt.find("level3") != std::string::npos, bt);
    CHECK_MESSAGE(bt.find("level1") != std::string::npos, bt);
  }

  {  // a read-role client: no core, no environment
    auto poller = certificates.tlsClient(port, "poller");
    v1::GetCrashRequest get;
    get.set_id(crash.id());
    v1::GetCrashResponse got;
    const grpc::Status read = poller->GetCrash(callContext().get(), get, &got);
    REQUIRE_MESSAGE(read.ok(), read.error_message());
    CHECK(got.environ_withheld());
    CHECK(got.report().process().environ_size() == 0);
    CHECK(got.incident().backtrace().threads_size() >= 1);

    v1::DownloadCoreRequest request;
    request.set_id(crash.id());
    auto context = callContext();
    auto reader = poller->DownloadCore(context.get(), request);
    v1::DownloadCoreResponse chunk;
    CHECK_FALSE(reader->Read(&chunk));
    const grpc::Status refused = reader->Finish();
    CHECK(refused.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK(refused.error_message() == "client 'poller' has the read role; DownloadCore needs admin");
  }

  {  // GetNode: vigie's core_pattern is in place
    v1::GetNodeResponse node;
    REQUIRE(agent.admin().GetNode(callContext().get(), v1::GetNodeRequest(), &node).ok());
    CHECK(node.core_pattern().managed());
    CHECK(node.core_pattern().installed());
    CHECK_FALSE(node.core_pattern().drift());
    CHECK(node.core_pattern().current() == node.core_pattern().expected());
  }

  watch_context->TryCancel();
  watch->Finish();
  CHECK(agent.stop());
}

}  // namespace
}  // namespace vigie::testing
