// /metrics and /healthz for real: build/bin/vigied on an ephemeral port (the standard command
// line passes --metrics-listen 127.0.0.1:0), found from its log line and scraped with a plain
// HTTP/1.0 client over a socket. Plus the server in-process, for what vigied does not reach.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "agent/metrics/metrics_http_server.h"
#include "agent/os/unique_fd.h"
#include "tests/integration/harness.h"
#include "tests/integration/metrics_scrape.h"

namespace vigie::testing {
namespace {

// The standard command line (which listens on an ephemeral port), logging to stderr, with
// --metrics-listen set to `listen` when given.
std::vector<std::string> vigiedArgs(const TempDir& dir, const std::string& config,
                                    std::optional<std::string> listen = std::nullopt) {
  std::vector<std::string> args = daemonArgs(dir, config);
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--metrics-listen" && listen) {
      args[i + 1] = *listen;
    }
  }
  args.insert(args.end(), {"--log-target", "stderr"});
  return args;
}

// A socket listening on 127.0.0.1 at a port of the kernel's choosing.
struct TakenPort {
  TakenPort() : fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    REQUIRE(fd.valid());
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0);
    REQUIRE(::listen(fd.get(), 1) == 0);
    socklen_t length = sizeof(address);
    REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port = ntohs(address.sin_port);
  }
  UniqueFd fd;
  uint16_t port = 0;
};

TEST_CASE("metrics: a scrape after a crash shows the restart counter and the latency histogram") {
  TempDir dir;
  const std::string config = dir.file("vigie.yaml");
  const std::string pids = dir.file("web.pids");
  writeFile(config, "workloads:\n  - name: web\n" + helperExec({"pidfile", pids}) +
                        "    restart: {backoff: {initial: 100ms}}\n    stop: {timeout: 2s}\n");
  DaemonProcess vigied(dir, {.args = vigiedArgs(dir, config)});
  const uint16_t port = metricsPort(vigied);
  REQUIRE_MESSAGE(pollUntil([&] { return readPids(pids).size() == 1; }), vigied.stderrText());

  const std::string up = R"(vigie_unit_up{unit="web"})";
  const std::string restarts = R"(vigie_unit_restarts_total{unit="web"})";
  const std::string immediate = R"(vigie_restart_latency_seconds_count{restart="immediate"})";
  const std::string backoff = R"(vigie_restart_latency_seconds_count{restart="backoff"})";
  std::string before;
  REQUIRE_MESSAGE(pollUntil([&] {
                    before = scrape(port);
                    return valueOr(before, up) == 1;
                  }),
                  before);
  CHECK(valueOr(before, restarts) == 0);
  CHECK(valueOr(before, immediate) == 0);
  CHECK(valueOr(before, backoff) == 0);
  CHECK(valueOr(before, R"(vigie_unit_state{state="running",unit="web"})") == 1);

  // A crash: restarted at once, and timed.
  REQUIRE(::kill(readPids(pids)[0], SIGSEGV) == 0);
  REQUIRE_MESSAGE(pollUntil([&] { return readPids(pids).size() == 2; }), vigied.stderrText());
  std::string after;
  REQUIRE_MESSAGE(pollUntil([&] {
                    after = scrape(port);
                    return valueOr(after, immediate) == 1 && valueOr(after, up) == 1;
                  }),
                  after);
  CHECK(valueOr(after, restarts) == 1);
  CHECK(valueOr(after, R"(vigie_restart_latency_seconds_bucket{restart="immediate",le="+Inf"})") ==
        1);
  CHECK(valueOr(after, R"(vigie_restart_latency_seconds_sum{restart="immediate"})") > 0);
  // Killed by SIGSEGV: "dumped" when the kernel wrote a core for it (core_pattern), else
  // "killed"; one of them, once.
  CHECK(valueOr(after, R"(vigie_unit_exits_total{reason="killed",unit="web"})") +
            valueOr(after, R"(vigie_unit_exits_total{reason="dumped",unit="web"})") ==
        1);

  // A second crash in a row waits out the backoff: timed in the other series.
  REQUIRE(::kill(readPids(pids)[1], SIGSEGV) == 0);
  REQUIRE_MESSAGE(pollUntil([&] {
                    after = scrape(port);
                    return valueOr(after, backoff) == 1 && valueOr(after, up) == 1;
                  }),
                  after << vigied.stderrText());
  CHECK(valueOr(after, restarts) == 2);
  // At least the 90ms a jittered 100ms delay leaves.
  CHECK(valueOr(after, R"(vigie_restart_latency_seconds_sum{restart="backoff"})") >= 0.09);
  CHECK(valueOr(after, R"(vigie_restart_latency_seconds_bucket{restart="backoff",le="0.05"})") ==
        0);

  // The agent's own figures.
  CHECK(valueOr(after, "process_resident_memory_bytes") > 1e6);
  CHECK(valueOr(after, "process_start_time_seconds") > 1.6e9);
  CHECK(sample(after, "vigie_event_loop_lag_seconds").has_value());
  CHECK(after.find("\nvigie_build_info{version=\"") != std::string::npos);

  // A clean stop takes the HTTP server down with the agent.
  REQUIRE(::kill(vigied.pid(), SIGTERM) == 0);
  REQUIRE(vigied.waitExit());
  CHECK(vigied.exitCode() == 0);
  CHECK_FALSE(httpGet(port, "/healthz").has_value());
}

TEST_CASE("metrics: /healthz is 200 while the loop turns and 503 while it is stalled") {
  TempDir dir;
  const std::string config = dir.file("vigie.yaml");
  writeFile(config, "metrics: {healthz_max_lag: 300ms}\nworkloads:\n  - name: idle\n" +
                        helperExec({"pidfile", dir.file("idle.pids")}) +
                        "    stop: {timeout: 2s}\n");
  // The test-only knob: 's' written into this FIFO blocks the loop thread until 'r' follows,
  // however long the test takes to look. No timing is involved.
  const std::string fifo = dir.file("stall.fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::vector<std::string> args = vigiedArgs(dir, config);
  args.insert(args.end(), {"--stall-loop-fifo-for-test", fifo});
  DaemonProcess vigied(dir, {.args = args});
  const uint16_t port = metricsPort(vigied);
  REQUIRE_MESSAGE(vigied.waitForLog("vigied started"), vigied.stderrText());

  std::optional<HttpReply> health;
  REQUIRE_MESSAGE(pollUntil([&] {
                    health = httpGet(port, "/healthz");
                    return health && health->status == 200;
                  }),
                  vigied.stderrText());
  CHECK(health->body == "ok\n");
  CHECK(health->head.find("Content-Type: text/plain") != std::string::npos);

  const UniqueFd knob(::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  REQUIRE_MESSAGE(knob.valid(), "open " << fifo << ": " << std::strerror(errno));
  REQUIRE(::write(knob.get(), "s", 1) == 1);
  REQUIRE_MESSAGE(pollUntil([&] {
                    health = httpGet(port, "/healthz");
                    return health && health->status == 503;
                  }),
                  vigied.stderrText());
  CHECK(health->body.find("event loop stalled for ") == 0);
  CHECK(health->body.find("(limit 300ms)") != std::string::npos);
  // /metrics still answers from its own thread, and shows the lag growing.
  const std::string stalled = scrape(port);
  CHECK(valueOr(stalled, "vigie_event_loop_lag_seconds") > 0.3);

  REQUIRE(::write(knob.get(), "r", 1) == 1);
  REQUIRE_MESSAGE(pollUntil([&] {
                    health = httpGet(port, "/healthz");
                    return health && health->status == 200;
                  }),
                  vigied.stderrText());
  // The late tick that ended the stall is in the histogram, above 0.1s.
  std::string after;
  REQUIRE_MESSAGE(pollUntil([&] {
                    after = scrape(port);
                    return valueOr(after, R"(vigie_event_loop_tick_lag_seconds_bucket{le="0.1"})") <
                           valueOr(after, "vigie_event_loop_tick_lag_seconds_count");
                  }),
                  after);
}

TEST_CASE("metrics: a taken port fails the start with a clear error, before any unit starts") {
  TempDir dir;
  const std::string config = dir.file("vigie.yaml");
  const std::string pids = dir.file("web.pids");
  writeFile(config, "workloads:\n  - name: web\n" + helperExec({"pidfile", pids}));
  const TakenPort taken;
  const std::string address = "127.0.0.1:" + std::to_string(taken.port);
  DaemonProcess vigied(dir, {.args = vigiedArgs(dir, config, address)});
  REQUIRE(vigied.waitExit());
  INFO("vigied log:\n" << vigied.stderrText());
  CHECK(vigied.exitCode() == 1);
  const std::vector<std::string> lines =
      linesContaining(vigied.stderrText(), "cannot start the metrics endpoint");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(address) != std::string::npos);
  CHECK(lines[0].find("Address already in use") != std::string::npos);
  CHECK(readPids(pids).empty());
  CHECK(vigied.stderrText().find("instance 1 started") == std::string::npos);
}

TEST_CASE("metrics: --metrics-listen \"\" turns the endpoint off") {
  TempDir dir;
  const std::string config = dir.file("vigie.yaml");
  const std::string pids = dir.file("web.pids");
  writeFile(config, "workloads:\n  - name: web\n" + helperExec({"pidfile", pids}) +
                        "    stop: {timeout: 2s}\n");
  DaemonProcess vigied(dir, {.args = vigiedArgs(dir, config, "")});
  REQUIRE_MESSAGE(vigied.waitForLog("vigied started"), vigied.stderrText());
  CHECK(vigied.stderrText().find("metrics endpoint disabled") != std::string::npos);
  CHECK(vigied.stderrText().find("metrics on http://") == std::string::npos);
  REQUIRE_MESSAGE(pollUntil([&] { return readPids(pids).size() == 1; }), vigied.stderrText());
}

TEST_CASE("metrics server: GET and HEAD on /metrics and /healthz, 405 and 404 otherwise") {
  std::atomic<int> scrapes{0};  // the handlers run on the server's threads.
  std::atomic<bool> healthy{true};
  auto server = MetricsHttpServer::start(
      ListenAddress{"127.0.0.1", 0},
      {[&] {
         ++scrapes;
         return std::string("# TYPE x gauge\nx 1\n");
       },
       [&] {
         return HealthReport{healthy, healthy ? "ok" : "event loop stalled for 11s"};
       }});
  REQUIRE_MESSAGE(server.ok(), server.error().message);
  const uint16_t port = (*server)->port();
  CHECK(port != 0);
  CHECK((*server)->boundAddress() == "127.0.0.1:" + std::to_string(port));

  const auto metrics = httpGet(port, "/metrics");
  REQUIRE(metrics.has_value());
  CHECK(metrics->status == 200);
  CHECK(metrics->body == "# TYPE x gauge\nx 1\n");
  CHECK(metrics->head.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
  CHECK(scrapes == 1);

  const auto head = httpRequest(port, "HEAD", "/metrics");
  REQUIRE(head.has_value());
  CHECK(head->status == 200);
  CHECK(head->body.empty());

  const auto post = httpRequest(port, "POST", "/metrics");
  REQUIRE(post.has_value());
  CHECK(post->status == 405);
  CHECK(post->head.find("Allow: GET, HEAD") != std::string::npos);

  for (const char* path : {"/", "/metrics/x", "/healthzz", "/other"}) {
    const auto other = httpGet(port, path);
    REQUIRE(other.has_value());
    CHECK_MESSAGE(other->status == 404, path);
  }

  healthy = false;
  const auto sick = httpGet(port, "/healthz");
  REQUIRE(sick.has_value());
  CHECK(sick->status == 503);
  CHECK(sick->body == "event loop stalled for 11s\n");

  // A second server on the same port is refused, with the reason.
  auto second =
      MetricsHttpServer::start(ListenAddress{"127.0.0.1", port},
                               {[] { return std::string(); }, [] { return HealthReport{}; }});
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().message.find("Address already in use") != std::string::npos);

  server->reset();
  CHECK_FALSE(httpGet(port, "/metrics").has_value());
}

}  // namespace
}  // namespace vigie::testing
