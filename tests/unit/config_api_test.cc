// The api: and metrics: sections of the config: accepted shapes, defaults, and every error with
// its exact position.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/fakes/config_strings.h"
#include "tests/fakes/temp_dir.h"
#include "vigie/config.h"

namespace vigie {
namespace {

using testing::configOf;
using testing::errorOf;
using testing::errorsOf;

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) {
    out += line + "\n";
  }
  return out;
}

// A valid tcp section; `extra` lines go under it (4 spaces in), from line 9 on.
std::string tcpWith(const std::string& extra) {
  return "api:\n"
         "  tcp:\n"
         "    listen: 0.0.0.0:7443\n"
         "    cert: /etc/vigie/tls/server.crt\n"
         "    key: /etc/vigie/tls/server.key\n"
         "    client_ca: /etc/vigie/tls/clients-ca.crt\n"
         "    clients:\n"
         "      - {identity: control-plane, role: read}\n" +
         extra;
}

TEST_CASE("config api: defaults without the sections") {
  const AgentConfig config = configOf("workloads: []\n");
  CHECK(config.api.socket == "/run/vigie/vigie.sock");
  CHECK(config.api.socket_group.empty());
  CHECK_FALSE(config.api.tcp.has_value());
  CHECK(config.api.limits.max_message_bytes == uint64_t{4} << 20);
  CHECK(config.api.limits.max_streams == 64);
  CHECK(config.api.limits.event_queue == 1024);
  CHECK(config.api.limits.output_queue_bytes == uint64_t{4} << 20);
  CHECK(config.metrics.listen == "127.0.0.1:9464");
  CHECK(config.metrics.healthz_max_lag == 10s);
  // Empty sections keep every default, like the others.
  CHECK(configOf("api:\nmetrics:\n").api == ApiSpec{});
  CHECK(configOf("api: {}\nmetrics: {}\n").metrics == MetricsSpec{});
}

TEST_CASE("config api: the full example of the docs is read") {
  const AgentConfig config = configOf(R"(api:
  socket: /run/vigie/vigie.sock
  socket_group: root
  tcp:
    listen: 0.0.0.0:7443
    cert: /etc/vigie/tls/server.crt
    key: /etc/vigie/tls/server.key
    client_ca: /etc/vigie/tls/clients-ca.crt
    clients:
      - {identity: control-plane, role: read}
      - {identity: sre-oncall, role: admin}
      - identity: spiffe://fleet/poller
        role: read
  limits: {max_message_bytes: 8MiB, max_streams: 16, event_queue: 256, output_queue_bytes: 1MiB}
metrics:
  listen: 127.0.0.1:9464     # "" disables
  healthz_max_lag: 3s
)");
  const ApiSpec& api = config.api;
  CHECK(api.socket == "/run/vigie/vigie.sock");
  CHECK(api.socket_group == "root");
  REQUIRE(api.tcp.has_value());
  CHECK(api.tcp->listen == "0.0.0.0:7443");
  CHECK(api.tcp->cert == "/etc/vigie/tls/server.crt");
  CHECK(api.tcp->key == "/etc/vigie/tls/server.key");
  CHECK(api.tcp->client_ca == "/etc/vigie/tls/clients-ca.crt");
  CHECK(api.tcp->clients == std::vector<ApiClientSpec>{{"control-plane", ApiRole::kRead},
                                                       {"sre-oncall", ApiRole::kAdmin},
                                                       {"spiffe://fleet/poller", ApiRole::kRead}});
  CHECK(api.limits.max_message_bytes == uint64_t{8} << 20);
  CHECK(api.limits.max_streams == 16);
  CHECK(api.limits.event_queue == 256);
  CHECK(api.limits.output_queue_bytes == uint64_t{1} << 20);
  CHECK(config.metrics.listen == "127.0.0.1:9464");
  CHECK(config.metrics.healthz_max_lag == 3s);
}

TEST_CASE("config api: socket and socket_group") {
  CHECK(configOf("api: {socket_group: \"\"}\n").api.socket_group.empty());
  CHECK(configOf("api: {socket: /tmp/x/agent.sock}\n").api.socket == "/tmp/x/agent.sock");
  CHECK(errorOf("api:\n  socket: run/vigie.sock\n") ==
        "vigie.yaml:2:11: api.socket: \"run/vigie.sock\" is not an absolute path");
  CHECK(errorOf("api:\n  socket: [a]\n") == "vigie.yaml:2:11: api.socket: expected a string");
  CHECK(errorOf("api:\n  socket: /" + std::string(120, 'a') + "\n") ==
        "vigie.yaml:2:11: api.socket: path is 121 bytes long; a unix socket path has at most 107");
  CHECK(errorOf("api:\n  socket_group: vigie-ghost-group\n") ==
        "vigie.yaml:2:17: api.socket_group: unknown group \"vigie-ghost-group\"");
  CHECK(errorOf("api:\n  socket_group:\n") ==
        "vigie.yaml:2:3: api.socket_group: expected a string");
}

TEST_CASE("config api: unknown keys are reported with a suggestion") {
  CHECK(errorOf("api:\n  socket_grop: vigie\n") ==
        "vigie.yaml:2:3: unknown key \"socket_grop\" in api (did you mean \"socket_group\"?)");
  CHECK(errorOf("apl: {}\n") ==
        "vigie.yaml:1:1: unknown key \"apl\" at top level (did you mean \"api\"?)");
  CHECK(errorOf("metric: {}\n") ==
        "vigie.yaml:1:1: unknown key \"metric\" at top level (did you mean \"metrics\"?)");
  CHECK(errorOf(tcpWith("    client_cas: /x\n")) ==
        "vigie.yaml:9:5: unknown key \"client_cas\" in api.tcp (did you mean \"client_ca\"?)");
  CHECK(joined(errorsOf(tcpWith("      - {identity: b, rol: read}\n"))) ==
        "vigie.yaml:9:9: api.tcp.clients[1]: missing required key \"role\"\n"
        "vigie.yaml:9:23: unknown key \"rol\" in api.tcp.clients[1] (did you mean \"role\"?)\n");
  CHECK(errorOf("api:\n  limits: {max_stream: 3}\n") ==
        "vigie.yaml:2:12: unknown key \"max_stream\" in api.limits (did you mean "
        "\"max_streams\"?)");
  CHECK(errorOf("metrics:\n  listne: 127.0.0.1:1\n") ==
        "vigie.yaml:2:3: unknown key \"listne\" in metrics (did you mean \"listen\"?)");
  CHECK(errorOf("api: 3\n") == "vigie.yaml:1:6: api: expected a map");
  CHECK(errorOf("api: {tcp: 3}\n") == "vigie.yaml:1:12: api.tcp: expected a map");
}

TEST_CASE("config api: tcp needs listen, cert, key, client_ca and a client") {
  CHECK_FALSE(configOf("api:\n  tcp:\n").api.tcp.has_value());
  CHECK(joined(errorsOf("api:\n  tcp:\n    listen: 0.0.0.0:7443\n")) ==
        "vigie.yaml:3:5: api.tcp: missing required key \"cert\"\n"
        "vigie.yaml:3:5: api.tcp: missing required key \"key\"\n"
        "vigie.yaml:3:5: api.tcp: missing required key \"client_ca\"\n"
        "vigie.yaml:3:5: api.tcp: missing required key \"clients\"\n");
  const std::string base =
      "api:\n"
      "  tcp:\n"
      "    listen: 0.0.0.0:7443\n"
      "    cert: /c\n"
      "    key: /k\n"
      "    client_ca: /ca\n";
  CHECK(errorOf(base + "    clients: []\n") ==
        "vigie.yaml:7:14: api.tcp.clients: no client may connect; expected a list of clients such "
        "as {identity: control-plane, role: read}");
  CHECK(errorOf(base + "    clients:\n") ==
        "vigie.yaml:7:5: api.tcp.clients: expected a list of clients such as {identity: "
        "control-plane, role: read}");
  CHECK(errorOf(base + "    clients: {identity: a, role: read}\n") ==
        "vigie.yaml:7:14: api.tcp.clients: expected a list of clients such as {identity: "
        "control-plane, role: read}");
  CHECK(errorOf("api:\n  tcp:\n    listen: 0.0.0.0:7443\n    cert: c.pem\n    key: /k\n"
                "    client_ca: /ca\n    clients: [{identity: a, role: read}]\n") ==
        "vigie.yaml:4:11: api.tcp.cert: \"c.pem\" is not an absolute path");
}

TEST_CASE("config api: each client has an identity and a role, read or admin") {
  CHECK(errorOf(tcpWith("      - {identity: ops, role: root}\n")) ==
        "vigie.yaml:9:31: api.tcp.clients[1].role: unknown role \"root\" (expected read or admin)");
  CHECK(errorOf(tcpWith("      - {identity: ops}\n")) ==
        "vigie.yaml:9:9: api.tcp.clients[1]: missing required key \"role\"");
  CHECK(errorOf(tcpWith("      - {role: admin}\n")) ==
        "vigie.yaml:9:9: api.tcp.clients[1]: missing required key \"identity\"");
  CHECK(errorOf(tcpWith("      - {identity: \"\", role: admin}\n")) ==
        "vigie.yaml:9:20: api.tcp.clients[1].identity: must not be empty");
  CHECK(errorOf(tcpWith("      - ops\n")) == "vigie.yaml:9:9: api.tcp.clients[1]: expected a map");
  CHECK(errorOf(tcpWith("      - {identity: control-plane, role: admin}\n")) ==
        "vigie.yaml:9:20: api.tcp.clients[1].identity: duplicate identity \"control-plane\" "
        "(first at line 8)");
}

TEST_CASE("config api: listen addresses are host:port") {
  const auto listenError = [](const std::string& address) {
    return errorOf("api:\n  tcp:\n    listen: " + address +
                   "\n    cert: /c\n    key: /k\n    client_ca: /ca\n"
                   "    clients: [{identity: a, role: read}]\n");
  };
  CHECK(listenError("7443") ==
        "vigie.yaml:3:13: api.tcp.listen: invalid address \"7443\": expected host:port, such as "
        "127.0.0.1:9464");
  CHECK(listenError("\":7443\"") ==
        "vigie.yaml:3:13: api.tcp.listen: invalid address \":7443\": missing host (0.0.0.0 listens "
        "on every IPv4 address)");
  CHECK(listenError("\"::1:7443\"") ==
        "vigie.yaml:3:13: api.tcp.listen: invalid address \"::1:7443\": write an IPv6 address in "
        "brackets, such as [::1]:7443");
  CHECK(listenError("\"[::g]:7443\"") ==
        "vigie.yaml:3:13: api.tcp.listen: invalid address \"[::g]:7443\": \"::g\" is not an IPv6 "
        "address");
  CHECK(listenError("0.0.0.0:74430") ==
        "vigie.yaml:3:13: api.tcp.listen: invalid address \"0.0.0.0:74430\": port \"74430\" is "
        "not a number between 0 and 65535");
  CHECK(listenError("300.1.1.1:80") ==
        "vigie.yaml:3:13: api.tcp.listen: invalid address \"300.1.1.1:80\": \"300.1.1.1\" is not "
        "a host name or IP address");
  CHECK(listenError("\"0.0.0.0:\"") ==
        "vigie.yaml:3:13: api.tcp.listen: invalid address \"0.0.0.0:\": port \"\" is not a number "
        "between 0 and 65535");
  CHECK(errorOf("metrics: {listen: localhost}\n") ==
        "vigie.yaml:1:19: metrics.listen: invalid address \"localhost\": expected host:port, such "
        "as 127.0.0.1:9464");

  for (const std::string good : {"127.0.0.1:9464", "[::1]:9464", "localhost:80", "[::]:1",
                                 "node-3.example.org:65535", "0.0.0.0:0"}) {
    CAPTURE(good);
    CHECK(configOf("metrics: {listen: \"" + good + "\"}\n").metrics.listen == good);
  }
  CHECK(configOf("metrics: {listen: \"\"}\n").metrics.listen.empty());
}

TEST_CASE("config api: parseListenAddress splits host and port") {
  Result<ListenAddress> v4 = parseListenAddress("127.0.0.1:9464");
  REQUIRE(v4.ok());
  CHECK(v4->host == "127.0.0.1");
  CHECK(v4->port == 9464);
  CHECK(v4->format() == "127.0.0.1:9464");
  Result<ListenAddress> v6 = parseListenAddress("[::1]:7443");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->port == 7443);
  CHECK(v6->format() == "[::1]:7443");
  CHECK_FALSE(parseListenAddress("[::1]7443").ok());
  CHECK_FALSE(parseListenAddress("a b:1").ok());
  CHECK_FALSE(parseListenAddress("-a:1").ok());
  CHECK_FALSE(parseListenAddress("h:+1").ok());
}

TEST_CASE("config api: limits are sizes and counts within range") {
  CHECK(errorOf("api:\n  limits: {max_message_bytes: 1KiB}\n") ==
        "vigie.yaml:2:31: api.limits.max_message_bytes: 1KiB is out of range (expected between "
        "4KiB and 1GiB)");
  CHECK(errorOf("api:\n  limits: {max_message_bytes: 2GiB}\n") ==
        "vigie.yaml:2:31: api.limits.max_message_bytes: 2GiB is out of range (expected between "
        "4KiB and 1GiB)");
  CHECK(errorOf("api:\n  limits: {max_message_bytes: lots}\n") ==
        "vigie.yaml:2:31: api.limits.max_message_bytes: invalid size \"lots\": expected a whole "
        "number of bytes, optionally followed by B, KiB, MiB, GiB, kB, MB or GB");
  CHECK(errorOf("api:\n  limits: {max_streams: 0}\n") ==
        "vigie.yaml:2:25: api.limits.max_streams: expected an integer between 1 and 4096, got "
        "\"0\"");
  CHECK(errorOf("api:\n  limits: {event_queue: many}\n") ==
        "vigie.yaml:2:25: api.limits.event_queue: expected an integer between 1 and 1000000, got "
        "\"many\"");
  CHECK(errorOf("api:\n  limits: {output_queue_bytes: 10}\n") ==
        "vigie.yaml:2:32: api.limits.output_queue_bytes: 10 is out of range (expected between "
        "4KiB and 1GiB)");
  CHECK(errorOf("api:\n  limits: 5\n") == "vigie.yaml:2:11: api.limits: expected a map");
  // One limit given: the others keep their defaults.
  const ApiLimitsSpec limits = configOf("api:\n  limits: {max_streams: 2}\n").api.limits;
  CHECK(limits.max_streams == 2);
  CHECK(limits.max_message_bytes == ApiLimitsSpec{}.max_message_bytes);
  CHECK(limits.event_queue == ApiLimitsSpec{}.event_queue);
}

TEST_CASE("config api: metrics healthz_max_lag is a positive duration") {
  CHECK(errorOf("metrics:\n  healthz_max_lag: 0\n") ==
        "vigie.yaml:2:20: metrics.healthz_max_lag: must be greater than 0");
  CHECK(errorOf("metrics:\n  healthz_max_lag: soon\n") ==
        "vigie.yaml:2:20: metrics.healthz_max_lag: invalid duration \"soon\": expected a number "
        "followed by ns, us, ms, s, m or h");
  CHECK(configOf("metrics:\n  healthz_max_lag: 1m\n").metrics.healthz_max_lag == 60s);
}

TEST_CASE("config api: api and metrics are only allowed in the main file") {
  testing::TempDir dir;
  const std::string drop_in = dir.write("extra.yaml", "workloads: []\napi: {}\nmetrics: {}\n");
  const std::string main_file =
      dir.write("vigie.yaml", "include: [extra.yaml]\napi:\n  socket_group: root\n");
  ConfigLoadResult loaded = loadConfigFile(main_file);
  std::vector<std::string> errors;
  for (const ConfigError& error : loaded.errors) {
    errors.push_back(error.format());
  }
  CHECK(joined(errors) == drop_in + ":2:1: \"api\" is only allowed in the main config file\n" +
                              drop_in +
                              ":3:1: \"metrics\" is only allowed in the main config file\n");
  CHECK(loaded.config.api.socket_group == "root");
}

TEST_CASE("config api: duplicate sections are reported") {
  CHECK(errorOf("api: {}\napi: {}\n") == "vigie.yaml:2:1: duplicate key \"api\" (first at line 1)");
}

}  // namespace
}  // namespace vigie
