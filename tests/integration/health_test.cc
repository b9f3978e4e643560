// Health checks end to end: the real build/bin/vigied supervising tests/helpers/health_workload,
// watched through the gRPC API and vigiectl. An HTTP server and a TCP port that fall ill are
// restarted with reason liveness; a hung exec probe is killed at its timeout; a notify workload
// is ready only after READY=1 and shows its STATUS=; a workload that stops pinging its watchdog
// gets SIGABRT. Every wait is on a condition, with a deadline.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/api_calls.h"
#include "tests/integration/harness.h"
#include "tests/integration/tls_setup.h"
#include "vigie/v1/agent.grpc.pb.h"

namespace vigie::testing {
namespace {

std::string healthHelper() {
  return std::string(VIGIE_HELPERS_DIR) + "/health_workload";
}

std::string execLine(const std::vector<std::string>& args) {
  std::string out = "    exec: [\"" + healthHelper() + "\"";
  for (const auto& arg : args) {
    out += ", \"" + arg + "\"";
  }
  return out + "]\n";
}

using Agent = ApiAgent;

bool ended(const std::optional<v1::Instance>& instance) {
  return instance && instance->has_exit();
}

TEST_CASE("health: an HTTP server that starts failing is restarted with reason liveness") {
  TempDir dir;
  const uint16_t port = freeTcpPort();
  const std::string flag = dir.file("fail");
  const std::string config = dir.file("vigie.yaml");
  writeFile(config, "workloads:\n  - name: web\n" + execLine({"http", std::to_string(port), flag}) +
                        "    liveness:\n"
                        "      http: {port: " +
                        std::to_string(port) +
                        ", path: /healthz}\n"
                        "      period: 200ms\n"
                        "      timeout: 2s\n"
                        "      failure_threshold: 3\n"
                        "      initial_delay: 500ms\n"
                        "    stop: {timeout: 5s}\n");
  Agent agent(dir, config);
  REQUIRE_MESSAGE(pollUntil([&] {
                    const auto first = agent.instance("web", 1);
                    return first && first->liveness().state() == v1::PROBE_STATE_PASSING;
                  }),
                  agent.log());
  CHECK(agent.instance("web", 1)->liveness().last_status() == "HTTP 200");

  writeFile(flag, "");
  REQUIRE_MESSAGE(pollUntil([&] { return ended(agent.instance("web", 1)); }), agent.log());
  const v1::Instance first = *agent.instance("web", 1);
  CHECK(first.exit().reason() == v1::EXIT_REASON_LIVENESS);
  CHECK(first.exit().reason_detail() == "HTTP 500 (3 failures in a row)");
  CHECK_FALSE(first.exit().success());
  CHECK(first.exit().signal() == SIGTERM);
  CHECK(first.liveness().last_failure() == "HTTP 500");
  CHECK(first.liveness().consecutive_failures() == 3);
  CHECK(first.liveness().failures() >= 3);
  const std::string log = agent.log();
  CHECK(log.find("web: instance 1 failed its liveness probe 3 times in a row: sending SIGTERM") !=
        std::string::npos);
  CHECK(log.find("ended for liveness: HTTP 500 (3 failures in a row)") != std::string::npos);

  // Healthy again: the next instance stays.
  ::unlink(flag.c_str());
  REQUIRE_MESSAGE(pollUntil([&] {
                    const auto unit = agent.unit("web");
                    if (!unit || unit->instances_size() == 0) {
                      return false;
                    }
                    const v1::Instance& latest = unit->instances(unit->instances_size() - 1);
                    return !latest.has_exit() &&
                           latest.liveness().state() == v1::PROBE_STATE_PASSING;
                  }),
                  agent.log());
  const std::string shown = agent.vigiectl("unit show web");
  CHECK(shown.find("signal SIGTERM (liveness)") != std::string::npos);
  CHECK(shown.find("ended for liveness: HTTP 500 (3 failures in a row)") != std::string::npos);
}

TEST_CASE("health: a TCP port that closes gets its unit restarted with reason liveness") {
  TempDir dir;
  const uint16_t port = freeTcpPort();
  const std::string flag = dir.file("close");
  const std::string config = dir.file("vigie.yaml");
  writeFile(config, "workloads:\n  - name: db\n" + execLine({"tcp", std::to_string(port), flag}) +
                        "    liveness:\n"
                        "      tcp: {port: " +
                        std::to_string(port) +
                        "}\n"
                        "      period: 200ms\n"
                        "      failure_threshold: 2\n"
                        "      initial_delay: 500ms\n"
                        "    stop: {timeout: 5s}\n");
  Agent agent(dir, config);
  REQUIRE_MESSAGE(pollUntil([&] {
                    const auto first = agent.instance("db", 1);
                    return first && first->liveness().state() == v1::PROBE_STATE_PASSING;
                  }),
                  agent.log());
  CHECK(agent.instance("db", 1)->liveness().last_status() == "connected");
  writeFile(flag, "");
  REQUIRE_MESSAGE(pollUntil([&] { return ended(agent.instance("db", 1)); }), agent.log());
  const v1::Instance first = *agent.instance("db", 1);
  CHECK(first.exit().reason() == v1::EXIT_REASON_LIVENESS);
  CHECK(first.liveness().last_failure() ==
        "connect 127.0.0.1:" + std::to_string(port) + ": Connection refused");
  ::unlink(flag.c_str());
  CHECK(pollUntil([&] { return agent.instance("db", 2).has_value(); }));
}

TEST_CASE("health: an exec probe that hangs is killed at its timeout") {
  TempDir dir;
  const std::string probe_pids = dir.file("probe.pids");
  const std::string config = dir.file("vigie.yaml");
  writeFile(config, "workloads:\n  - name: app\n" + helperExec({"pidfile", dir.file("app.pids")}) +
                        "    liveness:\n"
                        "      exec: [\"" +
                        healthHelper() + "\", \"hang\", \"" + probe_pids +
                        "\"]\n"
                        "      period: 300ms\n"
                        "      timeout: 200ms\n"
                        "      failure_threshold: 2\n"
                        "    stop: {timeout: 5s}\n"
                        "    restart: {policy: never}\n");
  Agent agent(dir, config);
  REQUIRE_MESSAGE(pollUntil([&] { return ended(agent.instance("app", 1)); }), agent.log());
  const v1::Instance first = *agent.instance("app", 1);
  CHECK(first.exit().reason() == v1::EXIT_REASON_LIVENESS);
  CHECK(first.liveness().last_failure() == "timed out after 200ms");
  CHECK(first.exit().reason_detail() == "timed out after 200ms (2 failures in a row)");
  // Every probe process was killed at its timeout and reaped by vigied: none is left, not even
  // as a zombie.
  const std::vector<pid_t> pids = readPids(probe_pids);
  CHECK(pids.size() >= 2);
  for (pid_t pid : pids) {
    CHECK_MESSAGE(pollUntil([&] {
                    struct stat st {};
                    return ::stat(("/proc/" + std::to_string(pid)).c_str(), &st) != 0;
                  }),
                  "probe process " << pid << " is still there");
  }
  CHECK(agent.unit("app")->state() == v1::UNIT_STATE_EXITED);
}

TEST_CASE("health: a notify workload is ready only after READY=1 and shows its STATUS=") {
  TempDir dir;
  const std::string config = dir.file("vigie.yaml");
  writeFile(config, "workloads:\n  - name: api\n" + execLine({"notify"}) +
                        "    notify: true\n"
                        "    stop: {timeout: 5s}\n");
  Agent agent(dir, config);
  REQUIRE_MESSAGE(pollUntil([&] {
                    const auto first = agent.instance("api", 1);
                    return first && first->notify_status() == "warming up";
                  }),
                  agent.log());
  auto unit = agent.unit("api");
  REQUIRE(unit.has_value());
  CHECK(unit->state() == v1::UNIT_STATE_STARTING);
  CHECK(unit->pid() > 0);
  CHECK_FALSE(unit->ready());
  CHECK_FALSE(unit->instances(0).ready());
  std::string status = agent.vigiectl("status");
  CHECK(status.find("starting (not ready)") != std::string::npos);
  CHECK(status.find("warming up") != std::string::npos);

  REQUIRE(::kill(unit->pid(), SIGUSR1) == 0);
  REQUIRE_MESSAGE(pollUntil([&] {
                    const auto now = agent.unit("api");
                    return now && now->state() == v1::UNIT_STATE_RUNNING && now->ready();
                  }),
                  agent.log());
  CHECK(agent.instance("api", 1)->notify_status() == "serving");
  status = agent.vigiectl("status");
  CHECK(status.find("STATUS") != std::string::npos);
  CHECK(status.find("serving") != std::string::npos);
  CHECK(status.find("not ready") == std::string::npos);
  CHECK(agent.log().find("api: instance 1 ready (READY=1)") != std::string::npos);
}

TEST_CASE("health: a workload that stops pinging its watchdog gets SIGABRT") {
  TempDir dir;
  const std::string config = dir.file("vigie.yaml");
  // Three pings 100ms apart, then it hangs. core: false and a cwd of its own: whatever the
  // host's core_pattern, no core lands anywhere but the temp dir.
  writeFile(config, "workloads:\n  - name: worker\n" + execLine({"watchdog", "3", "100"}) +
                        "    notify: true\n"
                        "    watchdog: 1s\n"
                        "    core: false\n"
                        "    cwd: " +
                        dir.path() +
                        "\n"
                        "    stop: {timeout: 5s}\n"
                        "    restart: {policy: never}\n");
  Agent agent(dir, config);
  REQUIRE_MESSAGE(pollUntil([&] { return ended(agent.instance("worker", 1)); }), agent.log());
  const v1::Instance first = *agent.instance("worker", 1);
  CHECK(first.ready());
  CHECK(first.notify_status() == "hung");
  CHECK(first.exit().signal() == SIGABRT);
  CHECK(first.exit().reason() == v1::EXIT_REASON_WATCHDOG);
  CHECK(first.exit().reason_detail() == "no WATCHDOG=1 within 1s");
  // The pings held it off: it ran at least a watchdog period after its last one.
  CHECK(first.exit().runtime().seconds() * 1000 + first.exit().runtime().nanos() / 1000000 >= 1300);
  CHECK(agent.log().find("worker: instance 1 sent no WATCHDOG=1 within 1s: sending SIGABRT") !=
        std::string::npos);
  CHECK(agent.unit("worker")->state() == v1::UNIT_STATE_EXITED);
}

}  // namespace
}  // namespace vigie::testing
