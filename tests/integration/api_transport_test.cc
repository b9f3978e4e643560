// The API's transports, for real: an ApiServer in this process serving a small test service,
// real gRPC clients over the unix socket and over TCP+mTLS, a probe program run as `nobody`
// (with and without the socket's group), and certificates made by openssl at test time.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <grp.h>
#include <grpcpp/grpcpp.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "agent/api/access.h"
#include "agent/api/transport/api_server.h"
#include "agent/os/unique_fd.h"
#include "tests/integration/harness.h"
#include "tests/integration/tls_setup.h"
#include "vigie/config.h"
#include "vigie/v1/agent.grpc.pb.h"

extern char** environ;

namespace vigie::testing {
namespace {

constexpr uid_t kNobody = 65534;
constexpr auto kCallDeadline = std::chrono::seconds(30);

bool runningAsRoot() {
  return ::geteuid() == 0;
}

// ---------------------------------------------------------------------------------------------
// The service under the transport: GetNode needs the read role, StopUnit admin, WatchEvents
// (read) sends one event and stays open until cancelled. Counts the calls it served.

class OneEventThenWait final : public grpc::ServerWriteReactor<v1::WatchEventsResponse> {
 public:
  explicit OneEventThenWait(const grpc::Status& allowed) {
    if (!allowed.ok()) {
      finish(allowed);
      return;
    }
    event_.mutable_event()->mutable_version()->set_revision(1);
    StartWrite(&event_);
  }
  void OnWriteDone(bool) override {}  // then nothing: the stream stays open.
  void OnCancel() override { finish(grpc::Status::CANCELLED); }
  void OnDone() override { delete this; }

 private:
  void finish(const grpc::Status& status) {
    if (!finished_.exchange(true)) {
      Finish(status);
    }
  }

  v1::WatchEventsResponse event_;
  std::atomic<bool> finished_{false};
};

class TestAgentService final : public v1::Agent::CallbackService {
 public:
  explicit TestAgentService(const AccessPolicy& policy) : policy_(policy) {}

  grpc::ServerUnaryReactor* GetNode(grpc::CallbackServerContext* context, const v1::GetNodeRequest*,
                                    v1::GetNodeResponse* response) override {
    const grpc::Status allowed = policy_.check(*context, ApiRole::kRead, "GetNode");
    if (allowed.ok()) {
      response->mutable_node()->set_hostname("test-node");
      ++served;
    }
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(allowed);
    return reactor;
  }

  grpc::ServerUnaryReactor* StopUnit(grpc::CallbackServerContext* context,
                                     const v1::StopUnitRequest*, v1::StopUnitResponse*) override {
    const grpc::Status allowed = policy_.check(*context, ApiRole::kAdmin, "StopUnit");
    if (allowed.ok()) {
      ++served;
    }
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(allowed);
    return reactor;
  }

  grpc::ServerWriteReactor<v1::WatchEventsResponse>* WatchEvents(
      grpc::CallbackServerContext* context, const v1::WatchEventsRequest*) override {
    return new OneEventThenWait(policy_.check(*context, ApiRole::kRead, "WatchEvents"));
  }

  std::atomic<int> served{0};

 private:
  const AccessPolicy& policy_;
};

// An ApiServer with the test service, as vigied wires it: the policy from the same spec.
struct TestServer {
  std::unique_ptr<AccessPolicy> policy;
  std::unique_ptr<TestAgentService> service;
  std::unique_ptr<ApiServer> server;
};

Result<TestServer> tryStart(const ApiSpec& spec) {
  TestServer test;
  test.policy = makeAccessPolicy(spec);
  test.service = std::make_unique<TestAgentService>(*test.policy);
  Result<std::unique_ptr<ApiServer>> server = ApiServer::start(spec, {test.service.get()});
  if (!server) {
    return server.error();
  }
  test.server = std::move(*server);
  return test;
}

TestServer start(const ApiSpec& spec) {
  Result<TestServer> test = tryStart(spec);
  REQUIRE_MESSAGE(test.ok(), (test.ok() ? "" : test.error().message));
  return std::move(*test);
}

// A directory others may traverse, so that only the socket's own mode stands in their way.
ApiSpec socketSpec(const TempDir& dir) {
  REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
  ApiSpec spec;
  spec.socket = dir.file("run/vigie.sock");
  return spec;
}

// ---------------------------------------------------------------------------------------------
// Clients.

std::unique_ptr<v1::Agent::Stub> stubFor(const std::string& target,
                                         const std::shared_ptr<grpc::ChannelCredentials>& creds) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // no connection shared between tests.
  return v1::Agent::NewStub(grpc::CreateCustomChannel(target, creds, args));
}

std::unique_ptr<v1::Agent::Stub> socketClient(const std::string& path) {
  return stubFor("unix:" + path, grpc::InsecureChannelCredentials());
}

grpc::Status getNode(v1::Agent::Stub& stub) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  v1::GetNodeResponse response;
  grpc::Status status = stub.GetNode(&context, v1::GetNodeRequest(), &response);
  if (status.ok()) {
    CHECK(response.node().hostname() == "test-node");
  }
  return status;
}

grpc::Status stopUnit(v1::Agent::Stub& stub, const std::string& name = "web") {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  v1::StopUnitRequest request;
  request.set_name(name);
  v1::StopUnitResponse response;
  return stub.StopUnit(&context, request, &response);
}

std::string describe(const grpc::Status& status) {
  return std::to_string(static_cast<int>(status.error_code())) + ": " + status.error_message();
}

// Runs tests/helpers/api_probe (see its source) and returns its exit code and output line.
struct ProbeResult {
  int exit_code = -1;
  std::string output;
};

ProbeResult runProbe(const TempDir& dir, const std::vector<std::string>& args) {
  static int serial = 0;
  const std::string out = dir.file("probe" + std::to_string(serial++) + ".out");
  std::vector<std::string> argv_strings{std::string(VIGIE_HELPERS_DIR) + "/api_probe"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, (out + ".err").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(spawned == 0);
  registerForCrashCleanup(pid);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  ProbeResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.output = readFile(out);
  while (!result.output.empty() && result.output.back() == '\n') {
    result.output.pop_back();
  }
  INFO("probe stderr: " << readFile(out + ".err"));
  CHECK(WIFEXITED(status));
  return result;
}

// The probe as `nobody`, with `gid` as primary group and `groups` as supplementary ones.
std::vector<std::string> asNobody(gid_t gid, const std::string& groups, const std::string& socket) {
  std::vector<std::string> args{"--uid", std::to_string(kNobody), "--gid", std::to_string(gid)};
  if (!groups.empty()) {
    args.insert(args.end(), {"--groups", groups});
  }
  args.insert(args.end(), {"--socket", socket});
  return args;
}

std::vector<std::string> plus(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// An existing group other than nobody's, standing for "vigie" (tests add no system groups).
gid_t usersGroup() {
  const group* users = ::getgrnam("users");
  REQUIRE_MESSAGE(users != nullptr, "the tests need the standard group \"users\"");
  return users->gr_gid;
}

// The fds open in this process, with their close-on-exec flag.
std::set<int> openFds() {
  std::set<int> fds;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    fds.insert(std::stoi(entry.path().filename().string()));
  }
  return fds;
}

// ---------------------------------------------------------------------------------------------
// Certificates, made with openssl for each test that needs them.

class Certificates {
 public:
  Certificates() {
    const std::string script = R"sh(set -e
cd ")sh" + dir_.path() + R"sh("
ca() {
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$1.key" -out "$1.crt" -subj "/CN=$1" -days 2 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
leaf() {  # name, CA, subject, extensions
  printf '%s\n' "$4" > "$1.ext"
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$1.key" -out "$1.csr" -subj "$3"
  openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -days 2 \
    -extfile "$1.ext" -out "$1.crt"
}
ca clients-ca
ca server-ca
ca rogue-ca
leaf server server-ca /CN=localhost \
  "$(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth')"
client='extendedKeyUsage=clientAuth'
leaf control-plane clients-ca /CN=control-plane "$client"
leaf sre-oncall clients-ca /CN=sre-oncall "$client"
leaf stranger clients-ca /CN=stranger "$client"
leaf poller clients-ca /CN=poller-7 \
  "$(printf 'subjectAltName=URI:spiffe://fleet/poller\nextendedKeyUsage=clientAuth')"
leaf impostor rogue-ca /CN=sre-oncall "$client"
)sh";
    runCertificateScript(script, dir_.file("openssl.log"));
  }

  std::string path(const std::string& name) const { return dir_.file(name); }
  std::string pem(const std::string& name) const { return readFile(dir_.file(name)); }

  // The TCP part of a spec: the server's certificate, clients from clients-ca with their roles.
  ApiTcpSpec tcpSpec() const {
    ApiTcpSpec tcp;
    tcp.listen = "127.0.0.1:0";
    tcp.cert = path("server.crt");
    tcp.key = path("server.key");
    tcp.client_ca = path("clients-ca.crt");
    tcp.clients = {{"control-plane", ApiRole::kRead},
                   {"sre-oncall", ApiRole::kAdmin},
                   {"spiffe://fleet/poller", ApiRole::kRead}};
    return tcp;
  }

  // A client that trusts the server's CA and presents `client` (none when empty).
  std::unique_ptr<v1::Agent::Stub> tlsClient(int port, const std::string& client) const {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = pem("server-ca.crt");
    if (!client.empty()) {
      options.pem_cert_chain = pem(client + ".crt");
      options.pem_private_key = pem(client + ".key");
    }
    return stubFor("127.0.0.1:" + std::to_string(port), grpc::SslCredentials(options));
  }

 private:
  TempDir dir_;
};

// Made once per test run: openssl takes a while on a busy machine.
const Certificates& certificates() {
  static const Certificates certs;
  return certs;
}

// =============================================================================================
// The unix socket.

TEST_CASE("api transport: root calls everything over the socket, which is 0660 with its group") {
  if (!runningAsRoot()) {
    MESSAGE("skipped: needs root");
    return;
  }
  TempDir dir;
  ApiSpec spec = socketSpec(dir);
  spec.socket_group = "users";
  TestServer test = start(spec);

  struct stat info {};
  REQUIRE(::stat(spec.socket.c_str(), &info) == 0);
  CHECK(S_ISSOCK(info.st_mode));
  CHECK((info.st_mode & 07777) == 0660);
  CHECK(info.st_gid == usersGroup());
  CHECK(info.st_uid == 0);

  auto client = socketClient(spec.socket);
  const grpc::Status node = getNode(*client);
  CHECK_MESSAGE(node.ok(), describe(node));
  const grpc::Status stop = stopUnit(*client);
  CHECK_MESSAGE(stop.ok(), describe(stop));  // the socket carries the admin role.
  CHECK(test.service->served == 2);
}

TEST_CASE("api transport: nobody is refused by the socket mode, then by SO_PEERCRED in words") {
  if (!runningAsRoot()) {
    MESSAGE("skipped: needs root");
    return;
  }
  TempDir dir;
  ApiSpec spec = socketSpec(dir);
  spec.socket_group = "users";
  TestServer test = start(spec);
  const std::vector<std::string> nobody = asNobody(kNobody, "", spec.socket);

  // Layer 1: the file mode. connect() itself fails.
  const ProbeResult by_mode = runProbe(dir, plus(nobody, {"connect"}));
  CHECK(by_mode.exit_code == 1);
  CHECK(by_mode.output == "connect: Permission denied (errno 13)");

  // Layer 2: with the socket opened to everyone, the acceptor's SO_PEERCRED check refuses, and
  // the client is told why.
  REQUIRE(::chmod(spec.socket.c_str(), 0666) == 0);
  CHECK(runProbe(dir, plus(nobody, {"connect"})).output == "connected");
  const std::string refusal =
      "PERMISSION_DENIED: uid 65534 (nobody) may not call vigied: only "
      "root and members of group 'users' may use " +
      spec.socket;
  const ProbeResult get_node = runProbe(dir, plus(nobody, {"call", "GetNode"}));
  CHECK(get_node.exit_code == 1);
  CHECK(get_node.output == refusal);
  CHECK(runProbe(dir, plus(nobody, {"call", "StopUnit"})).output == refusal);
  CHECK(test.service->served == 0);  // the refused calls never reached the service.

  // Root is still served alongside.
  auto root = socketClient(spec.socket);
  CHECK(getNode(*root).ok());
  CHECK(test.service->served == 1);
}

TEST_CASE("api transport: members of the socket group may call everything") {
  if (!runningAsRoot()) {
    MESSAGE("skipped: needs root");
    return;
  }
  TempDir dir;
  ApiSpec spec = socketSpec(dir);
  spec.socket_group = "users";
  TestServer test = start(spec);
  const std::string users = std::to_string(usersGroup());

  // As a supplementary group (the usual case: `usermod -aG vigie alice`).
  const std::vector<std::string> member = asNobody(kNobody, "27," + users, spec.socket);
  ProbeResult get_node = runProbe(dir, plus(member, {"call", "GetNode"}));
  CHECK(get_node.exit_code == 0);
  CHECK(get_node.output == "OK");
  CHECK(runProbe(dir, plus(member, {"call", "StopUnit"})).output == "OK");

  // As the primary group.
  const std::vector<std::string> primary = asNobody(usersGroup(), "", spec.socket);
  CHECK(runProbe(dir, plus(primary, {"call", "GetNode"})).output == "OK");
  CHECK(test.service->served == 3);
}

TEST_CASE("api transport: without socket_group only root may use the socket") {
  if (!runningAsRoot()) {
    MESSAGE("skipped: needs root");
    return;
  }
  TempDir dir;
  ApiSpec spec = socketSpec(dir);
  TestServer test = start(spec);
  REQUIRE(::chmod(spec.socket.c_str(), 0666) == 0);
  const std::string users = std::to_string(usersGroup());
  CHECK(runProbe(dir, plus(asNobody(kNobody, users, spec.socket), {"call", "GetNode"})).output ==
        "PERMISSION_DENIED: uid 65534 (nobody) may not call vigied: only root may use " +
            spec.socket);
  CHECK(getNode(*socketClient(spec.socket)).ok());
}

TEST_CASE("api transport: a second agent on the same socket is refused, a stale socket replaced") {
  TempDir dir;
  ApiSpec spec = socketSpec(dir);
  {
    TestServer first = start(spec);
    Result<TestServer> second = tryStart(spec);
    REQUIRE_FALSE(second.ok());
    CHECK(second.error().message == "another process (another vigied?) is already listening on " +
                                        spec.socket +
                                        "; stop it or set api.socket to another path");
    // The first agent is untouched, socket file included.
    CHECK(getNode(*socketClient(spec.socket)).ok());
  }
  CHECK_FALSE(std::filesystem::exists(spec.socket));

  // A socket file left by a killed agent: bound, nobody listening.
  {
    UniqueFd stale(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, spec.socket.c_str(), sizeof address.sun_path - 1);
    REQUIRE(::bind(stale.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  }
  REQUIRE(std::filesystem::is_socket(spec.socket));
  TestServer replaced = start(spec);
  CHECK(getNode(*socketClient(spec.socket)).ok());
}

TEST_CASE("api transport: start errors are clear and leave nothing behind") {
  TempDir dir;
  ApiSpec spec = socketSpec(dir);

  SUBCASE("a file that is not a socket is left alone") {
    REQUIRE(std::filesystem::create_directories(dir.file("run")));
    writeFile(spec.socket, "precious\n");
    Result<TestServer> test = tryStart(spec);
    REQUIRE_FALSE(test.ok());
    CHECK(test.error().message == spec.socket +
                                      " exists and is not a socket; remove it or set api.socket "
                                      "to another path");
    CHECK(readFile(spec.socket) == "precious\n");
  }
  SUBCASE("an unknown group") {
    spec.socket_group = "vigie-ghost-group";
    Result<TestServer> test = tryStart(spec);
    REQUIRE_FALSE(test.ok());
    CHECK(test.error().message == "api.socket_group: unknown group \"vigie-ghost-group\"");
    CHECK_FALSE(std::filesystem::exists(spec.socket));
  }
  SUBCASE("a socket path too long for a unix socket") {
    spec.socket = dir.file(std::string(120, 's'));
    Result<TestServer> test = tryStart(spec);
    REQUIRE_FALSE(test.ok());
    CHECK(test.error().message.find("a unix socket path has 1 to 107 bytes") != std::string::npos);
  }
}

TEST_CASE("api transport: shutdown ends open streams, removes the socket, and is idempotent") {
  TempDir dir;
  ApiSpec spec = socketSpec(dir);
  TestServer test = start(spec);
  auto client = socketClient(spec.socket);

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto stream = client->WatchEvents(&context, v1::WatchEventsRequest());
  v1::WatchEventsResponse event;
  REQUIRE(stream->Read(&event));  // the stream is open on the server.
  CHECK(event.event().version().revision() == 1);

  test.server->shutdown();  // returns although the stream never ends by itself.
  CHECK_FALSE(std::filesystem::exists(spec.socket));
  CHECK_FALSE(stream->Read(&event));
  const grpc::Status ended = stream->Finish();
  CHECK_FALSE(ended.ok());
  CHECK(ended.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED);

  test.server->shutdown();
  test.server.reset();
  CHECK_FALSE(getNode(*socketClient(spec.socket)).ok());
}

TEST_CASE("api transport: no fd is leaked, and every fd is close-on-exec") {
  TempDir dir;
  ApiSpec spec = socketSpec(dir);
  // gRPC keeps a few process-wide fds once it is first used: warm it up before counting.
  {
    TestServer warm = start(spec);
    CHECK(getNode(*socketClient(spec.socket)).ok());
  }
  const std::set<int> before = openFds();
  for (int round = 0; round < 3; ++round) {
    TestServer test = start(spec);
    auto client = socketClient(spec.socket);
    CHECK(getNode(*client).ok());
    for (int fd : openFds()) {
      const int flags = ::fcntl(fd, F_GETFD);
      if (before.count(fd) == 0 && flags >= 0) {
        CAPTURE(fd);
        CHECK((flags & FD_CLOEXEC) != 0);
      }
    }
    test.server->shutdown();
  }
  // Clients' channels close their fds asynchronously: wait until every fd still open was
  // already open before.
  CHECK(pollUntil([&] {
    const std::set<int> now = openFds();
    return std::includes(before.begin(), before.end(), now.begin(), now.end());
  }));
}

TEST_CASE("api transport: messages larger than max_message_bytes are refused") {
  TempDir dir;
  ApiSpec spec = socketSpec(dir);
  spec.limits.max_message_bytes = 4096;
  TestServer test = start(spec);
  auto client = socketClient(spec.socket);
  CHECK(stopUnit(*client, std::string(1000, 'u')).ok());
  const grpc::Status big = stopUnit(*client, std::string(8192, 'u'));
  CHECK(big.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(test.service->served == 1);
}

// =============================================================================================
// TCP with mutual TLS.

TEST_CASE("api transport: TLS clients get their role, others are refused") {
  const Certificates& certs = certificates();
  TempDir dir;
  ApiSpec spec = socketSpec(dir);
  spec.tcp = certs.tcpSpec();
  TestServer test = start(spec);
  const int port = test.server->tcpPort();
  REQUIRE(port > 0);

  SUBCASE("admin calls everything") {
    auto sre = certs.tlsClient(port, "sre-oncall");
    const grpc::Status node = getNode(*sre);
    CHECK_MESSAGE(node.ok(), describe(node));
    const grpc::Status stop = stopUnit(*sre);
    CHECK_MESSAGE(stop.ok(), describe(stop));
    CHECK(test.service->served == 2);
  }
  SUBCASE("read calls GetNode, is denied StopUnit") {
    auto control = certs.tlsClient(port, "control-plane");
    const grpc::Status node = getNode(*control);
    CHECK_MESSAGE(node.ok(), describe(node));
    const grpc::Status stop = stopUnit(*control);
    CHECK(stop.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK(stop.error_message() == "client 'control-plane' has the read role; StopUnit needs admin");
    CHECK(test.service->served == 1);
  }
  SUBCASE("a URI subject alternative name identifies a client") {
    auto poller = certs.tlsClient(port, "poller");
    CHECK(getNode(*poller).ok());
    CHECK(stopUnit(*poller).error_message() ==
          "client 'spiffe://fleet/poller' has the read role; StopUnit needs admin");
  }
  SUBCASE("a certificate of the right CA but not listed is denied by name") {
    auto stranger = certs.tlsClient(port, "stranger");
    const grpc::Status node = getNode(*stranger);
    CHECK(node.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK(node.error_message() ==
          "client 'stranger' may not call vigied: its certificate (CN stranger) matches no "
          "identity in api.tcp.clients");
    CHECK(test.service->served == 0);
  }
  SUBCASE("no client certificate: the handshake fails") {
    const grpc::Status node = getNode(*certs.tlsClient(port, ""));
    CHECK_MESSAGE(node.error_code() == grpc::StatusCode::UNAVAILABLE, describe(node));
    CHECK(test.service->served == 0);
  }
  SUBCASE("a certificate from another CA: the handshake fails") {
    const grpc::Status node = getNode(*certs.tlsClient(port, "impostor"));
    CHECK_MESSAGE(node.error_code() == grpc::StatusCode::UNAVAILABLE, describe(node));
    CHECK(test.service->served == 0);
  }
  SUBCASE("a plaintext client: refused") {
    auto plain = stubFor("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
    const grpc::Status node = getNode(*plain);
    CHECK_MESSAGE(node.error_code() == grpc::StatusCode::UNAVAILABLE, describe(node));
    CHECK(test.service->served == 0);
  }
  SUBCASE("the unix socket still carries the admin role") {
    CHECK(stopUnit(*socketClient(spec.socket)).ok());
  }
}

TEST_CASE("api transport: TLS start errors name the file") {
  const Certificates& certs = certificates();
  TempDir dir;
  ApiSpec spec = socketSpec(dir);
  spec.tcp = certs.tcpSpec();

  const auto startError = [&](const ApiSpec& bad) {
    Result<TestServer> test = tryStart(bad);
    REQUIRE_FALSE(test.ok());
    CHECK_FALSE(std::filesystem::exists(bad.socket));  // nothing left behind.
    return test.error().message;
  };
  SUBCASE("missing files") {
    ApiSpec bad = spec;
    bad.tcp->cert = dir.file("missing.crt");
    CHECK(startError(bad) ==
          "cannot read api.tcp.cert " + bad.tcp->cert + ": No such file or directory");
    bad = spec;
    bad.tcp->key = dir.path();
    CHECK(startError(bad) == "cannot read api.tcp.key " + dir.path() + ": Is a directory");
    bad = spec;
    bad.tcp->client_ca = dir.file("nope/ca.crt");
    CHECK(startError(bad) ==
          "cannot read api.tcp.client_ca " + bad.tcp->client_ca + ": No such file or directory");
  }
  SUBCASE("files that do not hold what they should") {
    ApiSpec bad = spec;
    bad.tcp->key = certs.path("stranger.key");
    CHECK(startError(bad) == "api.tcp.key " + bad.tcp->key +
                                 " is not the key of the certificate in api.tcp.cert " +
                                 bad.tcp->cert);
    bad = spec;
    bad.tcp->cert = certs.path("server.key");
    CHECK(startError(bad) == "api.tcp.cert " + bad.tcp->cert + ": no PEM certificate in it");
    bad = spec;
    bad.tcp->key = certs.path("server.crt");
    CHECK(startError(bad) == "api.tcp.key " + bad.tcp->key +
                                 ": no PEM private key in it (a key with a passphrase is not "
                                 "supported)");
    bad = spec;
    bad.tcp->client_ca = certs.path("openssl.log");
    CHECK(startError(bad) ==
          "api.tcp.client_ca " + bad.tcp->client_ca + ": no PEM certificate in it");
  }
  SUBCASE("a TCP port another agent holds") {
    TestServer first = start(spec);
    ApiSpec second = spec;
    second.socket = dir.file("run/second.sock");
    second.tcp->listen = "127.0.0.1:" + std::to_string(first.server->tcpPort());
    CHECK(startError(second) ==
          "cannot listen on api.tcp.listen " + second.tcp->listen + ": Address already in use");
    CHECK(getNode(*certs.tlsClient(first.server->tcpPort(), "sre-oncall")).ok());
  }
}

}  // namespace
}  // namespace vigie::testing
