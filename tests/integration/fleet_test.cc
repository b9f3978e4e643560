// vigiectl fleet end to end: the real build/bin/vigiectl polling real vigied processes (over
// their unix sockets, and over TCP+mTLS with certificates made by openssl) and a target where
// nothing listens. The table marks the right node down, the exit codes are those documented in
// docs/fleet.md, -o json parses, a node that stops answering goes down after --down-after
// missed polls and comes back with its new epoch.
#include <arpa/inet.h>
#include <fcntl.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/cli_process.h"
#include "tests/integration/harness.h"
#include "tests/integration/text_checks.h"
#include "tests/integration/tls_setup.h"

namespace vigie::testing {
namespace {

// ASan makes both binaries slower; the deadline only bounds a hang.
constexpr Duration kFleetTimeout = 60s;

// vigiectl fleet to its end: polling several agents may take longer than one call.
CliResult runFleet(const TempDir& dir, const std::vector<std::string>& args) {
  return runCli(dir, args, {}, kFleetTimeout);
}

google::protobuf::Struct parseJson(const std::string& json) {
  google::protobuf::Struct parsed;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &parsed);
  INFO("json: " << json);
  REQUIRE_MESSAGE(status.ok(), status.ToString());
  return parsed;
}

const google::protobuf::Value& field(const google::protobuf::Struct& object,
                                     const std::string& name) {
  const auto it = object.fields().find(name);
  REQUIRE_MESSAGE(it != object.fields().end(), "no field " << name);
  return it->second;
}

// The node called `name` in one round's JSON document.
google::protobuf::Struct nodeNamed(const google::protobuf::Struct& round, const std::string& name) {
  for (const auto& node : field(round, "nodes").list_value().values()) {
    if (field(node.struct_value(), "name").string_value() == name) {
      return node.struct_value();
    }
  }
  FAIL("no node " << name);
  return {};
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) {
      out.push_back(line);
    }
  }
  return out;
}

// No metrics endpoint: several agents run side by side and would fight over its port.
std::string agentConfig(const std::string& workloads, const std::string& api = "") {
  return api + "metrics:\n  listen: \"\"\nworkloads:\n" + workloads;
}

// A unit that runs until stopped.
std::string steadyUnit(const TempDir& dir, const std::string& name) {
  return "  - name: " + name + "\n" + helperExec({"pidfile", dir.file(name + ".pids")}) +
         "    stop: {timeout: 5s}\n";
}

// A unit that exits 1 after 200ms, again and again, waiting 1s before each restart after the
// first: backing off (failing) most of the time.
std::string crashLoopUnit(const std::string& name) {
  return "  - name: " + name + "\n" + helperExec({"sleep-exit", "200", "1"}) +
         "    restart:\n      backoff: {initial: 1s, max: 1s}\n      limit: {burst: 0}\n";
}

// vigied in its own directory, with the standard command line; the socket is DIR/vigie.sock.
std::unique_ptr<DaemonProcess> startAgent(const TempDir& dir, const std::string& config) {
  writeFile(dir.file("vigie.yaml"), config);
  std::vector<std::string> args = daemonArgs(dir, dir.file("vigie.yaml"));
  args.insert(args.end(), {"--log-target", "stderr"});
  auto daemon = std::make_unique<DaemonProcess>(dir, DaemonProcess::Options{.args = args});
  REQUIRE_MESSAGE(daemon->waitForLog("vigied started"), daemon->stderrText());
  return daemon;
}

// Until `vigiectl fleet --once` on `targets` exits 0 (every node answers).
void waitUntilAllUp(const TempDir& dir, const std::string& targets) {
  CliResult last;
  const bool up = pollUntil([&] {
    last = runFleet(dir, {"fleet", "--targets", targets, "--once", "--timeout", "10s"});
    return last.exit_code == 0;
  });
  REQUIRE_MESSAGE(up, last);
}

TEST_CASE("vigiectl fleet: --once marks the unreachable node down and exits 1, -o json parses") {
  TempDir dir;
  TempDir alpha_dir;
  TempDir beta_dir;
  auto alpha =
      startAgent(alpha_dir, agentConfig(steadyUnit(alpha_dir, "web") + crashLoopUnit("crashy")));
  auto beta = startAgent(beta_dir, agentConfig(steadyUnit(beta_dir, "db")));
  const std::string ghost_socket = dir.file("nobody-listens.sock");
  const std::string live = dir.file("live.txt");
  writeFile(live, "unix:" + alpha_dir.file("vigie.sock") + " alpha\n" +
                      "unix:" + beta_dir.file("vigie.sock") + " beta\n");
  const std::string targets = dir.file("targets.txt");
  writeFile(targets, "# two agents and one that is not there\n" + readFile(live) +
                         "unix:" + ghost_socket + "   ghost\n");
  waitUntilAllUp(dir, live);

  // The crash loop is backing off most of the time: wait for a poll that sees it failing.
  CliResult result;
  const bool seen_failing = pollUntil([&] {
    result = runFleet(dir, {"fleet", "--targets", targets, "--once", "--timeout", "10s"});
    return contains(result.out, "failing: crashy");
  });
  REQUIRE_MESSAGE(seen_failing, result);
  INFO(result);
  CHECK(result.exit_code == 1);
  CHECK(result.err.empty());
  const std::vector<std::string> rows = lines(result.out);
  REQUIRE(rows.size() == 5);  // header, three nodes, summary
  CHECK(rows[0].rfind("NODE", 0) == 0);
  CHECK(rows[1].rfind("alpha", 0) == 0);
  CHECK(contains(rows[1], " up "));
  CHECK(contains(rows[1], "failing: crashy"));
  CHECK(rows[2].rfind("beta", 0) == 0);
  CHECK(contains(rows[2], " up "));
  CHECK(rows[3].rfind("ghost", 0) == 0);
  CHECK(contains(rows[3], " down "));
  CHECK(contains(rows[3], "never"));
  CHECK(contains(rows[3], "unix:" + ghost_socket + ": cannot reach the agent"));
  CHECK(contains(rows[4], "3 nodes: 2 up, 1 down; 3 units, 1 failing"));

  const CliResult json =
      runFleet(dir, {"fleet", "--targets", targets, "--once", "--timeout", "10s", "-o", "json"});
  INFO(json);
  CHECK(json.exit_code == 1);
  REQUIRE(lines(json.out).size() == 1);  // one document, one line
  const google::protobuf::Struct round = parseJson(json.out);
  CHECK(field(round, "round").number_value() == 1);
  REQUIRE(field(round, "nodes").list_value().values_size() == 3);
  const google::protobuf::Struct alpha_json = nodeNamed(round, "alpha");
  CHECK(field(alpha_json, "status").string_value() == "up");
  CHECK(field(alpha_json, "units").number_value() == 2);
  CHECK(field(alpha_json, "address").string_value() == "unix:" + alpha_dir.file("vigie.sock"));
  CHECK(field(alpha_json, "epoch").string_value().size() == 16);
  CHECK(field(alpha_json, "last_heartbeat_age_seconds").number_value() >= 0);
  // The poller described the node (GetNode) after seeing its epoch, and asked for usage.
  CHECK_FALSE(field(alpha_json, "hostname").string_value().empty());
  CHECK(field(alpha_json, "load1").has_number_value());
  CHECK(field(alpha_json, "error").has_null_value());
  const google::protobuf::Struct beta_json = nodeNamed(round, "beta");
  CHECK(field(beta_json, "status").string_value() == "up");
  CHECK(field(beta_json, "units").number_value() == 1);
  CHECK(field(beta_json, "units_failing").number_value() == 0);
  const google::protobuf::Struct ghost_json = nodeNamed(round, "ghost");
  CHECK(field(ghost_json, "status").string_value() == "down");
  CHECK(field(ghost_json, "units").has_null_value());
  CHECK(field(ghost_json, "last_heartbeat_age_seconds").has_null_value());
  CHECK(contains(field(ghost_json, "error").string_value(), ghost_socket));
  const google::protobuf::Struct& summary = field(round, "summary").struct_value();
  CHECK(field(summary, "nodes").number_value() == 3);
  CHECK(field(summary, "up").number_value() == 2);
  CHECK(field(summary, "down").number_value() == 1);
}

TEST_CASE("vigiectl fleet: exit 0 when every node is up, 3 when none is, 2 on a bad targets file") {
  TempDir dir;
  TempDir alpha_dir;
  auto alpha = startAgent(alpha_dir, agentConfig(steadyUnit(alpha_dir, "web")));
  const std::string live = dir.file("live.txt");
  writeFile(live, "unix:" + alpha_dir.file("vigie.sock") + " alpha\n");
  waitUntilAllUp(dir, live);

  const CliResult all_up = runFleet(dir, {"fleet", "--targets", live, "--once"});
  CHECK_MESSAGE(all_up.exit_code == 0, all_up);
  CHECK_MESSAGE(contains(all_up.out, "1 node: 1 up, 0 down"), all_up);

  const std::string dead = dir.file("dead.txt");
  writeFile(dead, "unix:" + dir.file("a.sock") + "\nunix:" + dir.file("b.sock") + "\n");
  const CliResult none = runFleet(dir, {"fleet", "--targets", dead, "--once"});
  CHECK_MESSAGE(none.exit_code == 3, none);
  CHECK_MESSAGE(contains(none.out, "2 nodes: 0 up, 2 down"), none);

  const std::string bad = dir.file("bad.txt");
  writeFile(bad, "unix:" + alpha_dir.file("vigie.sock") + "\nno-port-here\n");
  const CliResult usage = runFleet(dir, {"fleet", "--targets", bad, "--once"});
  CHECK_MESSAGE(usage.exit_code == 2, usage);
  CHECK_MESSAGE(contains(usage.err, bad + ":2: "), usage);
  CHECK(usage.out.empty());

  const CliResult missing = runFleet(dir, {"fleet", "--targets", dir.file("none.txt")});
  CHECK_MESSAGE(missing.exit_code == 2, missing);
  CHECK_MESSAGE(contains(missing.err, "cannot read targets file"), missing);

  const CliResult tcp_without_tls = runFleet(dir, {"fleet", "--targets", live, "--once"});
  CHECK(tcp_without_tls.exit_code == 0);  // unix targets need no TLS flag
  writeFile(bad, "127.0.0.1:7443\n");
  const CliResult needs_tls = runFleet(dir, {"fleet", "--targets", bad, "--once"});
  CHECK_MESSAGE(needs_tls.exit_code == 2, needs_tls);
  CHECK_MESSAGE(contains(needs_tls.err, "--tls-cert"), needs_tls);

  const CliResult bad_timeout =
      runFleet(dir, {"fleet", "--targets", live, "--interval", "1s", "--timeout", "2s"});
  CHECK_MESSAGE(bad_timeout.exit_code == 2, bad_timeout);
  CHECK_MESSAGE(contains(bad_timeout.err, "shorter than --interval"), bad_timeout);
}

TEST_CASE(
    "vigiectl fleet: a node that stops answering goes down, then comes back with its new "
    "epoch") {
  TempDir dir;
  TempDir alpha_dir;
  TempDir beta_dir;
  auto alpha = startAgent(alpha_dir, agentConfig(steadyUnit(alpha_dir, "web")));
  const std::string beta_config = agentConfig(steadyUnit(beta_dir, "db"));
  auto beta = startAgent(beta_dir, beta_config);
  const std::string targets = dir.file("targets.txt");
  writeFile(targets, "unix:" + alpha_dir.file("vigie.sock") +
                         " alpha\nunix:" + beta_dir.file("vigie.sock") + " beta\n");
  waitUntilAllUp(dir, targets);

  // One JSON line per round, until killed.
  CliProcess fleet(dir, {"fleet", "--targets", targets, "--interval", "300ms", "--down-after", "3",
                         "-o", "json"});
  auto rounds = [&] {
    std::vector<google::protobuf::Struct> parsed;
    for (const std::string& line : lines(fleet.out())) {
      parsed.push_back(parseJson(line));
    }
    return parsed;
  };
  auto betaIn = [&](const google::protobuf::Struct& round) { return nodeNamed(round, "beta"); };
  std::string first_epoch;
  REQUIRE_MESSAGE(pollUntil([&] {
                    const auto all = rounds();
                    if (all.empty() || field(betaIn(all.back()), "status").string_value() != "up") {
                      return false;
                    }
                    first_epoch = field(betaIn(all.back()), "epoch").string_value();
                    return true;
                  }),
                  fleet.out() << fleet.err());

  // vigied stops its units and exits: beta misses polls, "up (n missed)" then down.
  ::kill(beta->pid(), SIGTERM);
  REQUIRE(beta->waitExit());
  size_t down_round = 0;
  REQUIRE_MESSAGE(pollUntil([&] {
                    const auto all = rounds();
                    for (size_t i = 0; i < all.size(); ++i) {
                      if (field(betaIn(all[i]), "status").string_value() == "down") {
                        down_round = i;
                        return true;
                      }
                    }
                    return false;
                  }),
                  fleet.out());
  {
    const auto all = rounds();
    const google::protobuf::Struct down = betaIn(all[down_round]);
    CHECK(field(down, "missed_polls").number_value() == 3);
    // Still up while it had missed fewer than three.
    REQUIRE(down_round >= 3);
    const google::protobuf::Struct before = betaIn(all[down_round - 1]);
    CHECK(field(before, "status").string_value() == "up");
    CHECK(field(before, "missed_polls").number_value() == 2);
    // Its last known units stay on show, with the age of the last answer.
    CHECK(field(down, "units").number_value() == 1);
    CHECK(field(down, "last_heartbeat_age_seconds").number_value() > 0);
    CHECK(field(nodeNamed(all[down_round], "alpha"), "status").string_value() == "up");
  }

  // A new vigied on the same socket: a new epoch, which the poller takes whole.
  auto beta_again = startAgent(beta_dir, beta_config);
  std::string second_epoch;
  REQUIRE_MESSAGE(pollUntil([&] {
                    const auto all = rounds();
                    const google::protobuf::Struct last = betaIn(all.back());
                    if (field(last, "status").string_value() != "up" ||
                        !field(last, "error").has_null_value()) {
                      return false;
                    }
                    second_epoch = field(last, "epoch").string_value();
                    return second_epoch != first_epoch;
                  }),
                  fleet.out());
  CHECK(second_epoch.size() == 16);
  const google::protobuf::Struct last = betaIn(rounds().back());
  CHECK(field(last, "units").number_value() == 1);
  CHECK(field(last, "missed_polls").number_value() == 0);
}

// ---------------------------------------------------------------------------------------------
// Over TCP+mTLS

// A CA, the agent's server certificate (localhost, 127.0.0.1) and a poller's client certificate.
class Certificates {
 public:
  Certificates() {
    const std::string script = R"sh(set -e
cd ")sh" + dir_.path() + R"sh("
openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
  -keyout ca.key -out ca.crt -subj /CN=fleet-test-ca -days 2 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
leaf() {
  printf '%s\n' "$3" > "$1.ext"
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$1.key" -out "$1.csr" -subj "$2"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile "$1.ext" -out "$1.crt"
}
leaf server /CN=localhost \
  "$(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth')"
leaf poller /CN=fleet-poller 'extendedKeyUsage=clientAuth'
leaf stranger /CN=stranger 'extendedKeyUsage=clientAuth'
)sh";
    runCertificateScript(script, dir_.file("openssl.log"));
  }
  std::string path(const std::string& name) const { return dir_.file(name); }

 private:
  TempDir dir_;
};

TEST_CASE("vigiectl fleet: a host:port agent is polled over TCP+mTLS with --tls-cert/key/ca") {
  TempDir dir;
  TempDir agent_dir;
  Certificates certs;
  const int port = freeTcpPort();
  const std::string api = "api:\n  tcp:\n    listen: 127.0.0.1:" + std::to_string(port) +
                          "\n    cert: " + certs.path("server.crt") +
                          "\n    key: " + certs.path("server.key") +
                          "\n    client_ca: " + certs.path("ca.crt") +
                          "\n    clients:\n      - {identity: fleet-poller, role: read}\n";
  auto agent = startAgent(agent_dir, agentConfig(steadyUnit(agent_dir, "web"), api));
  const std::string targets = dir.file("targets.txt");
  writeFile(targets, "127.0.0.1:" + std::to_string(port) + " remote\n");
  const std::vector<std::string> tls = {"--tls-cert", certs.path("poller.crt"),
                                        "--tls-key",  certs.path("poller.key"),
                                        "--tls-ca",   certs.path("ca.crt")};
  std::vector<std::string> args = {"fleet",     "--targets", targets, "--once",
                                   "--timeout", "10s",       "-o",    "json"};
  args.insert(args.end(), tls.begin(), tls.end());
  CliResult result;
  const bool up = pollUntil([&] {
    result = runFleet(dir, args);
    return result.exit_code == 0;
  });
  REQUIRE_MESSAGE(up, result);
  const google::protobuf::Struct remote = nodeNamed(parseJson(result.out), "remote");
  CHECK(field(remote, "status").string_value() == "up");
  CHECK(field(remote, "units").number_value() == 1);

  // A certificate from the right CA whose identity the agent does not list: refused, so the
  // node is down with the agent's reason, and nothing is reachable: exit 3.
  const std::vector<std::string> stranger = {"fleet",      "--targets",
                                             targets,      "--once",
                                             "--timeout",  "10s",
                                             "--tls-cert", certs.path("stranger.crt"),
                                             "--tls-key",  certs.path("stranger.key"),
                                             "--tls-ca",   certs.path("ca.crt")};
  const CliResult refused = runFleet(dir, stranger);
  INFO(refused);
  CHECK(refused.exit_code == 3);
  CHECK(contains(refused.out, " down "));
  CHECK(contains(refused.out, "stranger"));
  CHECK(contains(refused.out, "PERMISSION_DENIED"));
}

}  // namespace
}  // namespace vigie::testing
