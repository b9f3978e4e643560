// The health keys of a workload: liveness (exec, http, tcp), notify and watchdog, with their
// defaults and every error at its position.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/fakes/config_strings.h"
#include "vigie/config.h"

namespace vigie {
namespace {

using testing::configOf;
using testing::errorsOf;
using testing::workloadOf;

std::string oneWorkload(const std::string& extra) {
  return "workloads:\n  - name: web\n    exec: [/usr/bin/web]\n" + extra;
}

TEST_CASE("health config: an http probe with its defaults") {
  const WorkloadSpec spec = workloadOf(oneWorkload("    liveness:\n      http: {port: 8080}\n"));
  REQUIRE(spec.liveness.has_value());
  CHECK(spec.liveness->kind == ProbeSpec::Kind::kHttp);
  CHECK(spec.liveness->host == "127.0.0.1");
  CHECK(spec.liveness->port == 8080);
  CHECK(spec.liveness->path == "/");
  CHECK(spec.liveness->period == 10s);
  CHECK(spec.liveness->timeout == 1s);
  CHECK(spec.liveness->failure_threshold == 3);
  CHECK(spec.liveness->initial_delay == 0s);
  CHECK_FALSE(spec.notify);
  CHECK_FALSE(spec.watchdog.has_value());
}

TEST_CASE("health config: every key of the three probes, notify and watchdog") {
  WorkloadSpec spec =
      workloadOf(oneWorkload("    liveness:\n"
                             "      http: {port: 443, path: \"/healthz?full=1\", host: \"::1\"}\n"
                             "      period: 2s\n"
                             "      timeout: 250ms\n"
                             "      failure_threshold: 5\n"
                             "      initial_delay: 30s\n"
                             "    notify: true\n"
                             "    watchdog: 15s\n"));
  REQUIRE(spec.liveness.has_value());
  CHECK(spec.liveness->host == "::1");
  CHECK(spec.liveness->port == 443);
  CHECK(spec.liveness->path == "/healthz?full=1");
  CHECK(spec.liveness->period == 2s);
  CHECK(spec.liveness->timeout == 250ms);
  CHECK(spec.liveness->failure_threshold == 5);
  CHECK(spec.liveness->initial_delay == 30s);
  CHECK(spec.notify);
  CHECK(spec.watchdog == 15s);

  spec = workloadOf(oneWorkload("    liveness:\n      tcp: {port: 5432, host: localhost}\n"));
  CHECK(spec.liveness->kind == ProbeSpec::Kind::kTcp);
  CHECK(spec.liveness->host == "127.0.0.1");
  CHECK(spec.liveness->port == 5432);

  spec = workloadOf(oneWorkload("    liveness:\n      exec: [pg_isready, -q]\n"));
  CHECK(spec.liveness->kind == ProbeSpec::Kind::kExec);
  CHECK(spec.liveness->exec == std::vector<std::string>{"pg_isready", "-q"});
}

TEST_CASE("health config: a probe needs exactly one check") {
  CHECK(errorsOf(oneWorkload("    liveness:\n      period: 5s\n")) ==
        std::vector<std::string>{
            "vigie.yaml:5:7: workloads[0].liveness: missing the check: one of exec, http or tcp"});
  CHECK(errorsOf(oneWorkload("    liveness:\n      tcp: {port: 1}\n      exec: [true]\n")) ==
        std::vector<std::string>{"vigie.yaml:6:7: workloads[0].liveness: only one of exec, http "
                                 "and tcp may be given (\"tcp\" is already)"});
  CHECK(errorsOf(oneWorkload("    liveness:\n")) ==
        std::vector<std::string>{"vigie.yaml:4:5: workloads[0].liveness: expected a map with one "
                                 "of exec, http or tcp"});
}

TEST_CASE("health config: probe values are checked") {
  CHECK(errorsOf(oneWorkload("    liveness:\n      http: {path: /}\n")) ==
        std::vector<std::string>{
            "vigie.yaml:5:13: workloads[0].liveness.http: missing required key \"port\""});
  CHECK(errorsOf(oneWorkload("    liveness:\n      tcp: {port: 70000}\n")) ==
        std::vector<std::string>{"vigie.yaml:5:19: workloads[0].liveness.tcp.port: expected an "
                                 "integer between 1 and 65535, got \"70000\""});
  const auto dns = errorsOf(oneWorkload("    liveness:\n      tcp: {port: 80, host: db.local}\n"));
  REQUIRE(dns.size() == 1);
  CHECK(dns[0].find("\"db.local\" is not an IP address") != std::string::npos);
  CHECK(errorsOf(oneWorkload("    liveness:\n      http: {port: 80, path: healthz}\n")) ==
        std::vector<std::string>{"vigie.yaml:5:30: workloads[0].liveness.http.path: \"healthz\" "
                                 "must start with \"/\""});
  CHECK(errorsOf(oneWorkload("    liveness:\n      http: {port: 80, path: \"/a b\"}\n")).size() ==
        1);
  CHECK(errorsOf(oneWorkload("    liveness:\n      exec: []\n")).size() == 1);
  CHECK(errorsOf(oneWorkload("    liveness:\n      tcp: {port: 1}\n      timeout: 0s\n")) ==
        std::vector<std::string>{
            "vigie.yaml:6:16: workloads[0].liveness.timeout: must be greater than 0"});
  CHECK(errorsOf(oneWorkload("    liveness:\n      tcp: {port: 1}\n      period: 0\n")).size() ==
        1);
  CHECK(errorsOf(oneWorkload("    liveness:\n      tcp: {port: 1}\n      failure_threshold: 0\n"))
            .size() == 1);
  const auto typo = errorsOf(oneWorkload("    liveness:\n      tcp: {port: 1}\n      perod: 1s\n"));
  REQUIRE(typo.size() == 1);
  CHECK(typo[0].find("unknown key \"perod\"") != std::string::npos);
  CHECK(typo[0].find("did you mean \"period\"?") != std::string::npos);
  const auto tcp_path = errorsOf(oneWorkload("    liveness:\n      tcp: {port: 1, path: /}\n"));
  REQUIRE(tcp_path.size() == 1);
  CHECK(tcp_path[0].find("unknown key \"path\"") != std::string::npos);
}

TEST_CASE("health config: a watchdog needs notify and a positive period") {
  CHECK(errorsOf(oneWorkload("    watchdog: 10s\n")) ==
        std::vector<std::string>{"vigie.yaml:4:15: workloads[0].watchdog: needs notify: true "
                                 "(WATCHDOG=1 pings come over sd_notify)"});
  CHECK(errorsOf(oneWorkload("    notify: true\n    watchdog: 0s\n")).size() == 1);
  CHECK(errorsOf(oneWorkload("    notify: maybe\n")).size() == 1);
}

TEST_CASE("health config: notify and watchdog restart on reload, the probe does not") {
  WorkloadSpec a;
  a.name = "web";
  a.exec = {"/usr/bin/web"};
  WorkloadSpec b = a;
  b.liveness = ProbeSpec{};
  CHECK_FALSE(processDefinitionDiffers(a, b));
  b = a;
  b.notify = true;
  CHECK(processDefinitionDiffers(a, b));
  b = a;
  b.watchdog = 5s;
  CHECK(processDefinitionDiffers(a, b));
}

}  // namespace
}  // namespace vigie
