// Crashes inside OCI containers reach vigied's crash path with host pids: the records must name
// the unit, whether the workload is the container's PID 1 or runs under `init: true`.
//
// In incident_integration_tests: vigied installs its core_pattern (see crash_lab.h).
#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <optional>
#include <string>

#include "tests/integration/container_rootfs.h"
#include "tests/integration/crash_lab.h"

namespace vigie::testing {
namespace {

// The incident of `unit` whose core came in with a backtrace, once it has settled.
std::optional<v1::CrashSummary> capturedCrash(CrashAgent& agent, const std::string& unit) {
  std::optional<v1::CrashSummary> found;
  pollUntil([&] {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::ListCrashesRequest request;
    request.set_unit(unit);
    v1::ListCrashesResponse response;
    if (!agent.admin().ListCrashes(&context, request, &response).ok()) {
      return false;
    }
    for (const auto& crash : response.crashes()) {
      if (crash.status() != v1::INCIDENT_STATUS_PENDING && !crash.crashing_function().empty()) {
        found = crash;
        return true;
      }
    }
    return false;
  });
  return found;
}

TEST_CASE(
    "crash container: a container's crash is recorded against its unit, with or without "
    "an init") {
  TempDir dir;
  const std::string rootfs = makeBusyboxRootfs(dir.file("rootfs"), staticCrasherPath());
  const std::string never = "    restart: {policy: never}\n";
  CrashAgent agent(dir, "  - name: bare\n" + never + "    container:\n      rootfs: " + rootfs +
                            "\n      args: [/bin/crash]\n"
                            "  - name: tini\n" +
                            never + "    container:\n      rootfs: " + rootfs +
                            "\n      args: [/bin/crash]\n      init: true\n");

  // PID 1 of its container: the instance itself, matched by its host pid and start time.
  const auto bare = capturedCrash(agent, "bare");
  REQUIRE_MESSAGE(bare, agent.log());
  CHECK(bare->unit() == "bare");
  CHECK_FALSE(bare->node_level());
  CHECK_FALSE(bare->descendant());
  CHECK(bare->signal_name() == "SIGSEGV");
  CHECK(bare->crashing_function() == "level3");

  // Under tini the workload is a child of the instance, in its session: a descendant record
  // of the unit, although tini has exited (139) before the report came in.
  const auto tini = capturedCrash(agent, "tini");
  REQUIRE_MESSAGE(tini, agent.log());
  CHECK(tini->unit() == "tini");
  CHECK_FALSE(tini->node_level());
  CHECK(tini->descendant());
  CHECK(tini->crashing_function() == "level3");
  CHECK(agent.stop());
}

}  // namespace
}  // namespace vigie::testing
