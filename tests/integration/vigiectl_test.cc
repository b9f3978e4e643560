// vigiectl end to end: the real build/bin/vigiectl against a real build/bin/vigied on its unix
// socket. Every command's output, its -o json (parsed back with protobuf), its exit code, and the
// errors when the unit is unknown, the command line is wrong, the agent is down or the caller is
// not allowed in.
#include <arpa/inet.h>
#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/cli_process.h"
#include "tests/integration/harness.h"
#include "tests/integration/text_checks.h"
#include "tests/integration/tls_setup.h"
#include "vigie/v1/agent.pb.h"

namespace vigie::testing {
namespace {

template <class Message>
Message parseJson(const std::string& json) {
  Message message;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &message);
  INFO("json: " << json);
  REQUIRE_MESSAGE(status.ok(), status.ToString());
  return message;
}

// A ticker that prints a numbered line every 100ms, and a unit that prints a line on each
// stream, then crashes (SIGSEGV) half a second later, again and again.
std::string standardConfig() {
  return "workloads:\n"
         "  - name: ticker\n"
         "    exec: [\"/bin/sh\", \"-c\", \"i=0; while :; do i=$((i+1)); echo tick $i; "
         "sleep 0.1; done\"]\n"
         "    stop: {timeout: 5s}\n"
         "  - name: crashy\n"
         "    exec: [\"/bin/sh\", \"-c\", \"echo started; echo dying >&2; sleep 0.5; exec " +
         helperPath() +
         " segv\"]\n"
         "    rlimits: {core: 0}\n"
         "    restart:\n"
         "      backoff: {initial: 300ms, max: 1s}\n"
         "      limit: {burst: 0}\n";
}

// One CA that signs the agent's certificate (for 127.0.0.1) and two clients: "sre" (admin) and
// "poller" (read); plus "stranger", self-signed, whom the agent does not trust.
struct Certificates {
  explicit Certificates(const TempDir& dir) : dir_(dir) {
    const std::string d = dir.path();
    const std::string script =
        "cd " + d +
        " && set -e\n"
        "openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
        "-keyout ca.key -out ca.crt -subj /CN=test-ca -days 2 "
        "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign\n"
        "printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > server.ext\n"
        "printf 'extendedKeyUsage=clientAuth\\n' > client.ext\n"
        "openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
        "-keyout server.key -out server.csr -subj /CN=agent\n"
        "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
        "-extfile server.ext -out server.crt\n"
        "for who in sre poller; do\n"
        "  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
        "-keyout $who.key -out $who.csr -subj /CN=$who\n"
        "  openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
        "-extfile client.ext -out $who.crt\n"
        "done\n"
        "openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
        "-keyout stranger.key -out stranger.crt -subj /CN=stranger -days 2\n";
    runCertificateScript(script, dir.file("certs.log"));
  }
  // --server ADDRESS --tls-ca ca.crt --tls-cert WHO.crt --tls-key WHO.key
  std::vector<std::string> flags(const std::string& address, const std::string& who) const {
    return {"--server",   address,
            "--tls-ca",   dir_.file("ca.crt"),
            "--tls-cert", dir_.file(who + ".crt"),
            "--tls-key",  dir_.file(who + ".key")};
  }
  std::string apiSection(int port) const {
    return "api:\n"
           "  tcp:\n"
           "    listen: 127.0.0.1:" +
           std::to_string(port) +
           "\n"
           "    cert: " +
           dir_.file("server.crt") +
           "\n"
           "    key: " +
           dir_.file("server.key") +
           "\n"
           "    client_ca: " +
           dir_.file("ca.crt") +
           "\n"
           "    clients:\n"
           "      - {identity: sre, role: admin}\n"
           "      - {identity: poller, role: read}\n";
  }

 private:
  const TempDir& dir_;
};

// vigied with the standard command line, and the socket path vigiectl is given.
class Agent {
 public:
  Agent(const TempDir& dir, const std::string& config_text) : dir_(dir) {
    config_ = dir.file("vigie.yaml");
    writeFile(config_, config_text);
    std::vector<std::string> args = daemonArgs(dir, config_);
    args.push_back("--log-target");
    args.push_back("stderr");
    daemon_ = std::make_unique<DaemonProcess>(dir, DaemonProcess::Options{.args = args});
    socket_ = dir.file("vigie.sock");
    const bool serving = pollUntil([&] {
      return runCli(dir_, {"--socket", socket_, "status"}).exit_code == 0 || !daemon_->running();
    });
    REQUIRE_MESSAGE((serving && daemon_->running()), "vigied does not serve its socket:\n"
                                                         << daemon_->stderrText());
  }

  // `vigiectl --socket SOCKET args...`
  CliResult run(std::vector<std::string> args, const CliOptions& options = {}) const {
    args.insert(args.begin(), {"--socket", socket_});
    return runCli(dir_, args, options);
  }
  std::unique_ptr<CliProcess> background(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--socket", socket_});
    return std::make_unique<CliProcess>(dir_, args);
  }

  v1::GetUnitResponse unit(const std::string& name) const {
    const CliResult result = run({"-o", "json", "unit", "show", name});
    REQUIRE_MESSAGE(result.exit_code == 0, result);
    return parseJson<v1::GetUnitResponse>(result.out);
  }
  bool waitForState(const std::string& name, v1::UnitState state) const {
    return pollUntil([&] { return unit(name).unit().state() == state; });
  }
  // The newest instance's id, 0 before the first start.
  uint64_t newestInstance(const std::string& name) const {
    const v1::Unit got = unit(name).unit();
    return got.instances_size() == 0 ? 0 : got.instances(got.instances_size() - 1).id();
  }
  // Until `name` has an instance that ended with `signal`.
  bool waitForCrash(const std::string& name, int signal) const {
    return pollUntil([&] {
      const v1::GetUnitResponse response = unit(name);
      for (const v1::Instance& instance : response.unit().instances()) {
        if (instance.has_exit() && instance.exit().signal() == signal) {
          return true;
        }
      }
      return false;
    });
  }

  const std::string& socket() const { return socket_; }
  const std::string& config() const { return config_; }
  DaemonProcess& daemon() { return *daemon_; }

 private:
  const TempDir& dir_;
  std::string config_;
  std::string socket_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_CASE("vigiectl: status prints a table, and -o json one document protobuf parses") {
  TempDir dir;
  Agent agent(dir, standardConfig());
  REQUIRE(agent.waitForCrash("crashy", SIGSEGV));

  const CliResult table = agent.run({"status"});
  INFO(table);
  REQUIRE(table.exit_code == 0);
  CHECK(table.err.empty());
  std::istringstream lines(table.out);
  std::string header;
  std::getline(lines, header);
  CHECK(std::regex_match(header, std::regex("UNIT +STATE +PID +UPTIME +RESTARTS +LAST EXIT +NEXT "
                                            "RESTART")));
  // Columns line up: each header word starts where its cells start.
  const size_t state_column = header.find("STATE");
  std::string ticker_line;
  std::string crashy_line;
  std::getline(lines, ticker_line);
  std::getline(lines, crashy_line);
  CHECK(ticker_line.rfind("ticker", 0) == 0);
  CHECK(ticker_line.substr(state_column, 7) == "running");
  CHECK(crashy_line.rfind("crashy", 0) == 0);
  CHECK(std::regex_search(
      crashy_line, std::regex("signal SIGSEGV( \\(core dumped\\))? (just now|[0-9]+[smhd] ago)")));
  // Not a TTY: no colour codes.
  CHECK_FALSE(contains(table.out, "\033["));

  const CliResult json = agent.run({"status", "-o", "json"});
  INFO(json);
  REQUIRE(json.exit_code == 0);
  const auto listed = parseJson<v1::ListUnitsResponse>(json.out);
  REQUIRE(listed.units_size() == 2);
  CHECK(listed.units(0).name() == "ticker");
  CHECK(listed.units(0).state() == v1::UNIT_STATE_RUNNING);
  CHECK(listed.units(0).pid() > 0);
  CHECK(listed.units(1).name() == "crashy");
  CHECK(contains(json.out, "\"total_restarts\""));

  // Python's json module takes it too, when there is one.
  if (std::system("python3 -c '' >/dev/null 2>&1") == 0) {
    writeFile(dir.file("status.json"), json.out);
    const std::string command =
        "python3 -c 'import json,sys; json.load(open(sys.argv[1]))' " + dir.file("status.json");
    CHECK(std::system(command.c_str()) == 0);
  }
}

TEST_CASE("vigiectl: an empty config says there are no units") {
  TempDir dir;
  Agent agent(dir, "workloads: []\n");
  const CliResult result = agent.run({"status"});
  INFO(result);
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "No units"));
  const CliResult json = agent.run({"-o", "json", "status"});
  CHECK(parseJson<v1::ListUnitsResponse>(json.out).units_size() == 0);
}

TEST_CASE("vigiectl: unit show has the config, the counters and every instance's exit") {
  TempDir dir;
  Agent agent(dir, standardConfig());
  REQUIRE(pollUntil([&] { return agent.newestInstance("crashy") >= 3; }));

  const CliResult shown = agent.run({"unit", "show", "crashy"});
  INFO(shown);
  REQUIRE(shown.exit_code == 0);
  CHECK(contains(shown.out, "Unit:          crashy\n"));
  CHECK(contains(shown.out, "Restarts:      "));
  CHECK(contains(shown.out, "  exec:        /bin/sh -c 'echo started;"));
  CHECK(contains(shown.out, "  restart:     always\n"));
  CHECK(contains(shown.out, "  declared:    " + agent.config() + ":"));
  CHECK(contains(shown.out, "Instances (oldest first):\n"));
  CHECK(std::regex_search(shown.out, std::regex("\n  ID +PID +STARTED +RAN +EXIT +USER CPU +SYS "
                                                "CPU +MAX RSS\n")));
  // Two ended instances at least, each with its reason, runtime and usage.
  CHECK(countOf(shown.out, "signal SIGSEGV") >= 2);
  CHECK(std::regex_search(
      shown.out, std::regex("\n  1 +[0-9]+ +[0-9-]+ [0-9:]+ +[0-9.]+m?s +signal SIGSEGV")));
  CHECK(std::regex_search(shown.out, std::regex("[0-9.]+ [KM]iB\n")));

  const auto json = agent.unit("crashy");
  CHECK(json.config().exec(0) == "/bin/sh");
  CHECK(json.unit().instances_size() >= 2);
}

TEST_CASE("vigiectl: logs of the current and the previous instance after a crash") {
  TempDir dir;
  Agent agent(dir, standardConfig());
  REQUIRE(pollUntil([&] { return agent.newestInstance("crashy") >= 2; }));

  const CliResult current = agent.run({"logs", "crashy"});
  INFO(current);
  REQUIRE(current.exit_code == 0);
  CHECK(contains(current.out, "started\n"));
  CHECK(contains(current.out, "dying\n"));    // both streams by default
  CHECK_FALSE(contains(current.out, "-- "));  // not a TTY: the workload's bytes only

  const CliResult previous = agent.run({"logs", "crashy", "--previous", "--stdout"});
  INFO(previous);
  REQUIRE(previous.exit_code == 0);
  CHECK(previous.out == "started\n");

  const CliResult previous_err = agent.run({"logs", "crashy", "--previous", "--stderr"});
  CHECK(previous_err.exit_code == 0);
  CHECK(previous_err.out == "dying\n");

  const CliResult first = agent.run({"logs", "crashy", "--instance", "1", "--stdout"});
  CHECK(first.exit_code == 0);
  CHECK(first.out == "started\n");

  const CliResult tail =
      agent.run({"logs", "crashy", "--instance", "1", "--stdout", "--tail", "3"});
  CHECK(tail.exit_code == 0);
  CHECK(tail.out == "ed\n");

  const CliResult json = agent.run({"-o", "json", "logs", "crashy", "--instance", "1"});
  REQUIRE(json.exit_code == 0);
  std::istringstream json_lines(json.out);
  std::string line;
  std::string stdout_bytes;
  while (std::getline(json_lines, line)) {
    const auto chunk = parseJson<v1::ReadOutputResponse>(line);
    CHECK(chunk.instance_id() == 1);
    if (chunk.stream() == v1::OUTPUT_STREAM_STDOUT) {
      stdout_bytes += chunk.data();
    }
  }
  CHECK(stdout_bytes == "started\n");
}

TEST_CASE("vigiectl: logs -f keeps printing new output, across a restart") {
  TempDir dir;
  Agent agent(dir, standardConfig());
  const uint64_t first = agent.newestInstance("ticker");
  auto follow = agent.background({"logs", "ticker", "-f"});
  // New lines keep coming: a tick far past what existed when the follow began.
  REQUIRE_MESSAGE(
      follow->waitForOutput([](const std::string& out) { return contains(out, "\ntick 20\n"); }),
      follow->out() << follow->err());
  REQUIRE(agent.run({"restart", "ticker"}).exit_code == 0);
  REQUIRE(pollUntil([&] { return agent.newestInstance("ticker") > first; }));
  // The new instance's first lines arrive on the same stream.
  CHECK_MESSAGE(
      follow->waitForOutput([](const std::string& out) { return countOf(out, "tick 3\n") >= 2; }),
      follow->out());
  CHECK(follow->running());
  CHECK_FALSE(contains(follow->out(), "-- instance"));  // markers are for terminals only
  follow->kill();
}

TEST_CASE("vigiectl: stop, start, restart and signal print the state they leave") {
  TempDir dir;
  Agent agent(dir, standardConfig());

  const CliResult stopped = agent.run({"stop", "ticker"});
  INFO(stopped);
  REQUIRE(stopped.exit_code == 0);
  CHECK(std::regex_match(stopped.out, std::regex("ticker: (stopping|stopped)(, pid [0-9]+)?\n")));
  REQUIRE(agent.waitForState("ticker", v1::UNIT_STATE_STOPPED));
  CHECK(contains(agent.run({"status"}).out, "stopped"));

  const CliResult started = agent.run({"start", "ticker"});
  INFO(started);
  REQUIRE(started.exit_code == 0);
  CHECK(std::regex_match(started.out, std::regex("ticker: (starting|running)(, pid [0-9]+)?\n")));
  REQUIRE(agent.waitForState("ticker", v1::UNIT_STATE_RUNNING));

  const uint64_t before = agent.newestInstance("ticker");
  const CliResult restarted = agent.run({"restart", "ticker"});
  INFO(restarted);
  REQUIRE(restarted.exit_code == 0);
  CHECK(contains(restarted.out, "ticker: "));
  REQUIRE(pollUntil([&] {
    return agent.newestInstance("ticker") > before &&
           agent.unit("ticker").unit().state() == v1::UNIT_STATE_RUNNING;
  }));

  const uint64_t before_signal = agent.newestInstance("ticker");
  const CliResult signalled = agent.run({"signal", "ticker", "TERM"});
  INFO(signalled);
  REQUIRE(signalled.exit_code == 0);
  CHECK(signalled.out.rfind("sent SIGTERM to ticker's main process\nticker: ", 0) == 0);
  // The policy (always) brings it back as a new instance, ended by SIGTERM.
  REQUIRE(pollUntil([&] { return agent.newestInstance("ticker") > before_signal; }));
  CHECK(agent.waitForCrash("ticker", SIGTERM));

  // A signal needs a process: wait for the new instance (a second failure in a row backs off).
  REQUIRE(agent.waitForState("ticker", v1::UNIT_STATE_RUNNING));
  const CliResult group = agent.run({"signal", "ticker", "15", "--group"});
  INFO(group);
  CHECK(group.exit_code == 0);
  CHECK(group.out.rfind("sent SIGTERM to ticker's process group\n", 0) == 0);
  const CliResult bad_signal = agent.run({"signal", "ticker", "SIGNOPE"});
  CHECK(bad_signal.exit_code == 2);
  CHECK(contains(bad_signal.err, "SIGNOPE"));
}

TEST_CASE("vigiectl: reload applies a valid config and rejects a broken one with file:line:col") {
  TempDir dir;
  Agent agent(dir, standardConfig());
  writeFile(agent.config(),
            standardConfig() + "  - name: extra\n" + helperExec({"sleep-exit", "60000", "0"}));
  const CliResult applied = agent.run({"reload"});
  INFO(applied);
  REQUIRE(applied.exit_code == 0);
  CHECK(contains(applied.out, "reloaded: 1 added (extra)"));
  CHECK(contains(applied.out, "2 unchanged"));
  CHECK(pollUntil([&] { return contains(agent.run({"status"}).out, "\nextra "); }));

  writeFile(agent.config(), standardConfig() + "  - name: broken\n    exce: [\"/bin/true\"]\n");
  const CliResult rejected = agent.run({"reload"});
  INFO(rejected);
  CHECK(rejected.exit_code == 1);
  CHECK(std::regex_search(rejected.err,
                          std::regex(std::regex_replace(agent.config(), std::regex("[.]"), "\\.") +
                                     ":[0-9]+:[0-9]+: .*exce")));
  CHECK(contains(rejected.err, "reload rejected"));
  // Nothing changed: extra still runs.
  CHECK(contains(agent.run({"status"}).out, "\nextra "));

  const CliResult json = agent.run({"-o", "json", "reload"});
  CHECK(json.exit_code == 1);
  const auto response = parseJson<v1::ReloadConfigResponse>(json.out);
  CHECK_FALSE(response.applied());
  CHECK(response.errors_size() >= 1);
}

TEST_CASE("vigiectl: node describes the host and the agent") {
  TempDir dir;
  Agent agent(dir, standardConfig());
  const CliResult node = agent.run({"node"});
  INFO(node);
  REQUIRE(node.exit_code == 0);
  char hostname[256] = {};
  ::gethostname(hostname, sizeof(hostname) - 1);
  CHECK(contains(node.out, std::string("Hostname:    ") + hostname + "\n"));
  CHECK(contains(node.out, "Kernel:      Linux "));
  CHECK(std::regex_search(node.out, std::regex("\nMemory: +[0-9.]+ [KMGT]iB available of")));
  CHECK(std::regex_search(node.out, std::regex("\nCPUs: +[0-9]+, load [0-9.]+ [0-9.]+ [0-9.]+")));
  CHECK(std::regex_search(node.out, std::regex("\nAgent: +vigied [^,]+, up [0-9]")));
  const auto json = parseJson<v1::GetNodeResponse>(agent.run({"node", "-o", "json"}).out);
  CHECK(json.node().hostname() == hostname);
  CHECK(json.node().cpu_count() > 0);
}

TEST_CASE("vigiectl: events -f shows a crash as it happens, and events the history kept") {
  TempDir dir;
  Agent agent(dir, standardConfig());
  auto watch = agent.background({"events", "-f", "--unit", "crashy"});
  auto watch_json = agent.background({"events", "-f", "-o", "json"});
  CHECK_MESSAGE(watch->waitForOutput([](const std::string& out) {
    return std::regex_search(
        out, std::regex("[0-9-]+ [0-9:.]+  crashy  instance [0-9]+ ended: signal SIGSEGV"));
  }),
                watch->out() << watch->err());
  CHECK(watch->waitForOutput(
      [](const std::string& out) { return contains(out, "crashy  instance "); }));
  CHECK_FALSE(contains(watch->out(), "ticker"));
  CHECK(watch->running());

  REQUIRE(watch_json->waitForOutput(
      [](const std::string& out) { return contains(out, "\"instance_exited\""); }));
  std::istringstream json_lines(watch_json->out());
  std::string line;
  int parsed = 0;
  while (std::getline(json_lines, line)) {
    parseJson<v1::Event>(line);
    ++parsed;
  }
  CHECK(parsed >= 1);

  const CliResult history = agent.run({"events"});
  INFO(history);
  REQUIRE(history.exit_code == 0);
  CHECK(contains(history.out, "ticker  instance 1 started, pid "));
  CHECK(std::regex_search(history.out, std::regex("crashy  instance 1 ended: signal SIGSEGV")));
}

TEST_CASE("vigiectl: an unknown unit fails with the agent's message and exit 1") {
  TempDir dir;
  Agent agent(dir, standardConfig());
  for (const auto& args : std::vector<std::vector<std::string>>{{"unit", "show", "nope"},
                                                                {"start", "nope"},
                                                                {"logs", "nope"},
                                                                {"signal", "nope", "HUP"}}) {
    const CliResult result = agent.run(args);
    INFO(result);
    CHECK(result.exit_code == 1);
    CHECK(contains(result.err, "nope"));
    CHECK(result.err.rfind("vigiectl: ", 0) == 0);
    CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);  // one sentence
  }
}

TEST_CASE("vigiectl: usage errors exit 2") {
  TempDir dir;
  const std::string socket = dir.file("vigie.sock");
  for (const auto& args :
       std::vector<std::vector<std::string>>{{},
                                             {"frobnicate"},
                                             {"logs"},
                                             {"unit"},
                                             {"status", "-o", "yaml"},
                                             {"--timeout", "soon", "status"},
                                             {"logs", "x", "--previous", "--instance", "2"},
                                             {"logs", "x", "--tail", "lots"},
                                             {"--tls-ca", "/etc/ssl/ca.pem", "status"}}) {
    std::vector<std::string> full = {"--socket", socket};
    full.insert(full.end(), args.begin(), args.end());
    const CliResult result = runCli(dir, full);
    INFO(result);
    CHECK(result.exit_code == 2);
    CHECK_FALSE(result.err.empty());
  }
  const CliResult missing_cert =
      runCli(dir, {"--server", "127.0.0.1:1", "--tls-cert", dir.file("nope.pem"), "--tls-key",
                   dir.file("nope.key"), "status"});
  INFO(missing_cert);
  CHECK(missing_cert.exit_code == 2);
  CHECK(contains(missing_cert.err, "--tls-cert file " + dir.file("nope.pem")));

  const CliResult help = runCli(dir, {"--help"});
  CHECK(help.exit_code == 0);
  CHECK(contains(help.out, "status"));
}

TEST_CASE("vigiectl: an agent that is down exits 3 with the hint") {
  TempDir dir;
  const CliResult missing = runCli(dir, {"--socket", dir.file("none.sock"), "status"});
  INFO(missing);
  CHECK(missing.exit_code == 3);
  CHECK(missing.err == "vigiectl: cannot reach " + dir.file("none.sock") +
                           ": no such file (is vigied running? see `systemctl status vigie`)\n");

  // VIGIE_SOCKET is the socket when --socket is not given.
  const CliResult from_env =
      runCli(dir, {"status"}, {.env = {{"VIGIE_SOCKET", dir.file("env.sock")}}});
  CHECK(from_env.exit_code == 3);
  CHECK(contains(from_env.err, dir.file("env.sock")));

  // A killed agent leaves its socket file behind: nobody listens there.
  Agent agent(dir, standardConfig());
  ::kill(agent.daemon().pid(), SIGKILL);
  REQUIRE(agent.daemon().waitExit());
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"status"}, {"logs", "ticker", "-f"}, {"events", "-f"}}) {
    const CliResult stale = agent.run(args);
    INFO(stale);
    CHECK(stale.exit_code == 3);
    CHECK(contains(stale.err, "is vigied running?"));
  }

  // A remote agent that is not there.
  const std::string cert = dir.file("client.pem");
  const std::string key = dir.file("client.key");
  const std::string openssl =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=cli "
      "-keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  REQUIRE(std::system(openssl.c_str()) == 0);
  const CliResult remote = runCli(dir, {"--server", "127.0.0.1:1", "--tls-cert", cert, "--tls-key",
                                        key, "--tls-ca", cert, "status"});
  INFO(remote);
  CHECK(remote.exit_code == 3);
  CHECK(contains(remote.err, "cannot reach 127.0.0.1:1"));
}

TEST_CASE("vigiectl: a user outside the socket's group is refused with exit 3") {
  TempDir dir;
  Agent agent(dir, standardConfig());
  // nobody may reach the socket's directory, and runs vigiectl from the build tree.
  REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
  const CliResult refused = agent.run({"status"}, {.as_nobody = true});
  INFO(refused);
  CHECK(refused.exit_code == 3);
  CHECK(contains(refused.err, "permission denied on " + agent.socket()));
  CHECK(contains(refused.err, "run as root"));
  CHECK(std::count(refused.err.begin(), refused.err.end(), '\n') == 1);

  // A socket open to everyone leaves the check to the agent (SO_PEERCRED): still refused.
  REQUIRE(::chmod(agent.socket().c_str(), 0666) == 0);
  const CliResult peer_refused = agent.run({"status"}, {.as_nobody = true});
  INFO(peer_refused);
  CHECK(peer_refused.exit_code == 3);
  CHECK(peer_refused.err.rfind("vigiectl: ", 0) == 0);
  CHECK(std::count(peer_refused.err.begin(), peer_refused.err.end(), '\n') == 1);
}

TEST_CASE("vigiectl: a remote agent over TCP with mTLS, and what each client may do") {
  TempDir dir;
  const Certificates certificates(dir);
  const int port = freeTcpPort();
  Agent agent(dir, certificates.apiSection(port) + standardConfig());
  const std::string address = "127.0.0.1:" + std::to_string(port);
  auto remote = [&](const std::string& who, std::vector<std::string> args) {
    std::vector<std::string> full = certificates.flags(address, who);
    full.insert(full.end(), args.begin(), args.end());
    return runCli(dir, full);
  };

  const CliResult status = remote("sre", {"status"});
  INFO(status);
  REQUIRE(status.exit_code == 0);
  CHECK(contains(status.out, "\nticker  running"));
  const CliResult stopped = remote("sre", {"stop", "ticker"});
  CHECK(stopped.exit_code == 0);
  CHECK(contains(stopped.out, "ticker: stop"));

  // The poller may read, not act.
  CHECK(remote("poller", {"unit", "show", "ticker"}).exit_code == 0);
  const CliResult refused = remote("poller", {"start", "ticker"});
  INFO(refused);
  CHECK(refused.exit_code == 3);
  CHECK(refused.err.rfind("vigiectl: " + address + " refused access: ", 0) == 0);
  CHECK(contains(refused.err, "StartUnit"));
  CHECK(std::count(refused.err.begin(), refused.err.end(), '\n') == 1);

  // A certificate from another CA never gets past the handshake.
  const CliResult stranger = remote("stranger", {"status"});
  INFO(stranger);
  CHECK(stranger.exit_code == 3);
  CHECK(stranger.err.rfind("vigiectl: cannot reach " + address + ": ", 0) == 0);
  CHECK(std::count(stranger.err.begin(), stranger.err.end(), '\n') == 1);
}

}  // namespace
}  // namespace vigie::testing
