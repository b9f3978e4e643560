#include "tests/integration/crash_lab.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <ostream>

#include "agent/os/unique_fd.h"

extern char** environ;

namespace vigie::testing {
namespace {

constexpr const char* kCorePattern = "/proc/sys/kernel/core_pattern";

Duration settleTimeout() {
  return sanitizedBuild() ? Duration(180s) : Duration(90s);
}

std::unique_ptr<v1::Agent::Stub> stubFor(const std::string& target,
                                         const std::shared_ptr<grpc::ChannelCredentials>& creds) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // no connection shared between agents.
  return v1::Agent::NewStub(grpc::CreateCustomChannel(target, creds, args));
}

// Runs `argv` with stdin from /dev/null and stdout/stderr into `out`/`err`; its exit code.
int spawnAndWait(const std::vector<std::string>& argv, const std::string& out,
                 const std::string& err) {
  std::vector<std::string> env_strings;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (std::string(*entry).rfind("VIGIE_SOCKET=", 0) != 0) {
      env_strings.emplace_back(*entry);
    }
  }
  std::vector<char*> args;
  for (const auto& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& entry : env_strings) {
    envp.push_back(entry.data());
  }
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (err == out) {
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE_MESSAGE(spawned == 0, "cannot run " << argv[0]);
  registerForCrashCleanup(pid);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

CorePatternGuard::CorePatternGuard() : saved_(readFile(kCorePattern)) {}

CorePatternGuard::~CorePatternGuard() {
  writeFile(kCorePattern, saved_);
}

std::string crasherPath(const std::string& name) {
  return std::string(VIGIE_HELPERS_DIR) + "/crashers/" + name;
}

int freeTcpPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  struct sockaddr_in address {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  REQUIRE(::bind(fd, reinterpret_cast<struct sockaddr*>(&address), sizeof(address)) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<struct sockaddr*>(&address), &length) == 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

TestCertificates::TestCertificates(const TempDir& dir) : dir_(dir) {
  const std::string script =
      "cd " + dir.path() +
      " && set -e\n"
      "key() { openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \"$@\"; }\n"
      "openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
      "-keyout ca.key -out ca.crt -subj /CN=test-ca -days 2 "
      "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign\n"
      "printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > server.ext\n"
      "printf 'extendedKeyUsage=clientAuth\\n' > client.ext\n"
      "key -keyout server.key -out server.csr -subj /CN=agent\n"
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
      "-extfile server.ext -out server.crt\n"
      "for who in sre poller; do\n"
      "  key -keyout $who.key -out $who.csr -subj /CN=$who\n"
      "  openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
      "-extfile client.ext -out $who.crt\n"
      "done\n";
  writeFile(dir.file("certs.sh"), script);
  const std::string command = "sh " + dir.file("certs.sh") + " >" + dir.file("certs.log") + " 2>&1";
  REQUIRE_MESSAGE(std::system(command.c_str()) == 0, readFile(dir.file("certs.log")));
}

std::string TestCertificates::apiSection(int port) const {
  return "api:\n"
         "  tcp:\n"
         "    listen: 127.0.0.1:" +
         std::to_string(port) + "\n    cert: " + path("server.crt") +
         "\n    key: " + path("server.key") + "\n    client_ca: " + path("ca.crt") +
         "\n"
         "    clients:\n"
         "      - {identity: sre, role: admin}\n"
         "      - {identity: poller, role: read}\n";
}

std::vector<std::string> TestCertificates::cliFlags(int port, const std::string& who) const {
  return {"--server",   "127.0.0.1:" + std::to_string(port),
          "--tls-ca",   path("ca.crt"),
          "--tls-cert", path(who + ".crt"),
          "--tls-key",  path(who + ".key")};
}

std::unique_ptr<v1::Agent::Stub> TestCertificates::tlsClient(int port,
                                                             const std::string& who) const {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = readFile(path("ca.crt"));
  options.pem_cert_chain = readFile(path(who + ".crt"));
  options.pem_private_key = readFile(path(who + ".key"));
  return stubFor("127.0.0.1:" + std::to_string(port), grpc::SslCredentials(options));
}

CrashAgent::CrashAgent(const TempDir& dir, const std::string& workloads, const std::string& api)
    : dir_(dir), socket_(dir.file("vigie.sock")) {
  // A short path to the helper: the whole pattern must stay under 128 bytes.
  ::unlink(dir.file("vc").c_str());
  REQUIRE(::symlink((std::string(VIGIE_BIN_DIR) + "/vigie-coredump").c_str(),
                    dir.file("vc").c_str()) == 0);
  writeFile(dir.file("vigie.yaml"),
            "workloads:\n" + workloads +
                "crash:\n"
                "  core_pattern: install\n"
                "  helper: " +
                dir.file("vc") + "\n  helper_config: " + dir.file("c.json") +
                "\n  intake_socket: " + dir.file("intake.sock") + "\n" + api);
  std::vector<std::string> args = daemonArgs(dir, dir.file("vigie.yaml"));
  // The harness says `--core-pattern leave` for every other test; this one takes the pattern.
  const auto mode = std::find(args.begin(), args.end(), "--core-pattern");
  REQUIRE(mode + 1 < args.end());
  *(mode + 1) = "install";
  args.insert(args.end(), {"--log-target", "stderr"});
  daemon_ = std::make_unique<DaemonProcess>(dir, DaemonProcess::Options{.args = args});
  admin_ = stubFor("unix:" + socket_, grpc::InsecureChannelCredentials());
  const bool serving = pollUntil([&] {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::GetNodeResponse node;
    return admin_->GetNode(&context, v1::GetNodeRequest(), &node).ok() || !daemon_->running();
  });
  REQUIRE_MESSAGE((serving && daemon_->running()), "vigied does not serve its socket:\n" << log());
}

CrashAgent::~CrashAgent() = default;

std::string triggeredUnit(const TempDir& dir, const std::string& name, const std::string& crasher,
                          const std::string& extra_yaml) {
  const std::string fifo = dir.file(name + ".fifo");
  ::unlink(fifo.c_str());
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  return "  - name: " + name + "\n    exec: [/bin/sh, -c, 'read line < " + fifo + "; exec " +
         crasherPath(crasher) +
         "']\n"
         "    restart:\n"
         "      backoff: {initial: 60s, max: 60s}\n" +
         extra_yaml;
}

void triggerUnit(const TempDir& dir, const std::string& name) {
  // Non-blocking: ENXIO until the unit's shell has opened the fifo for reading.
  UniqueFd fd;
  REQUIRE_MESSAGE(
      pollUntil([&] {
        fd.reset(::open(dir.file(name + ".fifo").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
        return fd.valid();
      }),
      "unit " << name << " never waited on its fifo");
  REQUIRE(::write(fd.get(), "go\n", 3) == 3);
}

v1::CrashSummary CrashAgent::waitSettled(const std::string& unit) {
  v1::CrashSummary found;
  const bool settled = pollUntil(
      [&] {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        v1::ListCrashesRequest request;
        request.set_unit(unit);
        v1::ListCrashesResponse response;
        if (!admin_->ListCrashes(&context, request, &response).ok()) {
          return false;
        }
        for (const auto& crash : response.crashes()) {
          if (crash.status() != v1::INCIDENT_STATUS_PENDING) {
            found = crash;
            return true;
          }
        }
        return false;
      },
      settleTimeout());
  REQUIRE_MESSAGE(settled, "no settled incident of " << unit << ":\n" << log());
  return found;
}

bool CrashAgent::stop() {
  ::kill(daemon_->pid(), SIGTERM);
  return daemon_->waitExit(30s) && daemon_->exitCode() == 0;
}

std::ostream& operator<<(std::ostream& os, const CliRun& run) {
  return os << "exit " << run.exit_code << "\n--- stdout\n" << run.out << "--- stderr\n" << run.err;
}

CliRun runVigiectl(const TempDir& dir, const std::vector<std::string>& args) {
  static int serial = 0;
  const std::string stem = dir.file("vigiectl-" + std::to_string(serial++));
  std::vector<std::string> argv{std::string(VIGIE_BIN_DIR) + "/vigiectl"};
  argv.insert(argv.end(), args.begin(), args.end());
  CliRun run;
  run.exit_code = spawnAndWait(argv, stem + ".out", stem + ".err");
  run.out = readFile(stem + ".out");
  run.err = readFile(stem + ".err");
  return run;
}

std::string runCapture(const TempDir& dir, const std::vector<std::string>& argv, int* exit_code) {
  static int serial = 0;
  const std::string out = dir.file("run-" + std::to_string(serial++) + ".log");
  *exit_code = spawnAndWait(argv, out, out);
  return readFile(out);
}

}  // namespace vigie::testing
