// vigiectl's exit codes and error sentences: gRPC statuses mapped to 0/1/2/3, and a unix socket
// diagnosed by looking at it (missing, not a socket, nobody listening).
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "agent/cli/endpoint.h"
#include "agent/cli/rpc_errors.h"
#include "agent/os/unique_fd.h"
#include "tests/fakes/temp_dir.h"

namespace vigie::cli {
namespace {

using grpc::StatusCode;

Endpoint unixEndpoint(const std::string& path) {
  return Endpoint{nullptr, path, true};
}

// A socket file with no listener behind it: bound, never listened on, then closed.
void makeDeadSocket(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(fd);
  struct sockaddr_un address {};
  address.sun_family = AF_UNIX;
  REQUIRE(path.size() < sizeof(address.sun_path));
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  REQUIRE(::bind(fd.get(), reinterpret_cast<const struct sockaddr*>(&address), sizeof(address)) ==
          0);
}

TEST_CASE("cli exit codes: 0 ok, 1 failed, 2 usage, 3 unreachable or refused") {
  CHECK(exitCodeFor(StatusCode::OK) == 0);
  CHECK(exitCodeFor(StatusCode::NOT_FOUND) == 1);
  CHECK(exitCodeFor(StatusCode::FAILED_PRECONDITION) == 1);
  CHECK(exitCodeFor(StatusCode::RESOURCE_EXHAUSTED) == 1);
  CHECK(exitCodeFor(StatusCode::INTERNAL) == 1);
  CHECK(exitCodeFor(StatusCode::UNIMPLEMENTED) == 1);
  CHECK(exitCodeFor(StatusCode::INVALID_ARGUMENT) == 2);
  CHECK(exitCodeFor(StatusCode::UNAVAILABLE) == 3);
  CHECK(exitCodeFor(StatusCode::DEADLINE_EXCEEDED) == 3);
  CHECK(exitCodeFor(StatusCode::PERMISSION_DENIED) == 3);
  CHECK(exitCodeFor(StatusCode::UNAUTHENTICATED) == 3);
}

TEST_CASE("cli errors: the agent's own message for an unknown unit, exit 1") {
  const Failure failure =
      describeFailure(grpc::Status(StatusCode::NOT_FOUND, "no unit \"nope\"; units: web, db"),
                      unixEndpoint("/run/vigie/vigie.sock"), "GetUnit", "5s");
  CHECK(failure.exit_code == kExitFailed);
  CHECK(failure.message == "no unit \"nope\"; units: web, db");
}

TEST_CASE("cli errors: refusals print the agent's reason, exit 3") {
  const Failure failure = describeFailure(
      grpc::Status(StatusCode::PERMISSION_DENIED, "uid 65534 is not root nor in group vigie"),
      unixEndpoint("/run/vigie/vigie.sock"), "ListUnits", "5s");
  CHECK(failure.exit_code == kExitUnreachable);
  CHECK(failure.message ==
        "/run/vigie/vigie.sock refused access: uid 65534 is not root nor in group vigie");
}

TEST_CASE("cli errors: a deadline names the timeout and what to do") {
  const Failure failure =
      describeFailure(grpc::Status(StatusCode::DEADLINE_EXCEEDED, "Deadline"),
                      Endpoint{nullptr, "10.0.0.1:7443", false}, "ListUnits", "2s");
  CHECK(failure.exit_code == kExitUnreachable);
  CHECK(failure.message.find("no answer from 10.0.0.1:7443 within 2s") == 0);
  CHECK(failure.message.find("--timeout") != std::string::npos);
}

TEST_CASE("cli errors: an older agent without the RPC") {
  const Failure failure = describeFailure(grpc::Status(StatusCode::UNIMPLEMENTED, ""),
                                          unixEndpoint("/s"), "WatchEvents", "5s");
  CHECK(failure.exit_code == kExitFailed);
  CHECK(failure.message.find("does not support WatchEvents") != std::string::npos);
}

TEST_CASE("cli errors: a missing socket means the agent is not running") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/vigie.sock";
  CHECK(diagnoseUnixSocket(path) ==
        "cannot reach " + path +
            ": no such file (is vigied running? see `systemctl status vigie`)");
  const Failure failure =
      describeFailure(grpc::Status(StatusCode::UNAVAILABLE, "failed to connect to all addresses"),
                      unixEndpoint(path), "ListUnits", "5s");
  CHECK(failure.exit_code == kExitUnreachable);
  CHECK(failure.message.find("is vigied running?") != std::string::npos);
}

TEST_CASE("cli errors: a socket nobody listens on, and a file that is not a socket") {
  testing::TempDir dir;
  const std::string dead = dir.path() + "/dead.sock";
  makeDeadSocket(dead);
  CHECK(diagnoseUnixSocket(dead).find("connection refused, nothing listens there (is vigied "
                                      "running?") != std::string::npos);
  const std::string plain = dir.write("plain", "not a socket");
  CHECK(diagnoseUnixSocket(plain).find("not a socket") != std::string::npos);
}

TEST_CASE("cli errors: a listening socket needs no diagnosis") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/live.sock";
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  struct sockaddr_un address {};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  REQUIRE(::bind(fd.get(), reinterpret_cast<const struct sockaddr*>(&address), sizeof(address)) ==
          0);
  REQUIRE(::listen(fd.get(), 4) == 0);
  CHECK(diagnoseUnixSocket(path) == "");
}

TEST_CASE("cli errors: the cause at the end of a gRPC error text") {
  CHECK(lastErrorCause("failed to connect to all addresses; last error: UNKNOWN: "
                       "ipv4:127.0.0.1:1: Connection refused") == "Connection refused");
  CHECK(lastErrorCause("plain") == "plain");
}

TEST_CASE("cli endpoint: TLS options are checked and unreadable files named") {
  EndpointOptions options;
  options.tls_ca = "/etc/ca.pem";
  auto without_server = openEndpoint(options);
  REQUIRE_FALSE(without_server);
  CHECK(without_server.error().message.find("go with --server") != std::string::npos);

  options = EndpointOptions{};
  options.server = "127.0.0.1:7443";
  auto without_cert = openEndpoint(options);
  REQUIRE_FALSE(without_cert);
  CHECK(without_cert.error().message.find("--server needs --tls-cert and --tls-key") == 0);

  testing::TempDir dir;
  options.tls_cert = dir.write("cert.pem", "-----BEGIN CERTIFICATE-----\n");
  options.tls_key = dir.path() + "/missing-key.pem";
  auto missing_key = openEndpoint(options);
  REQUIRE_FALSE(missing_key);
  CHECK(missing_key.error().message ==
        "cannot read --tls-key file " + options.tls_key + ": No such file or directory");

  auto local = openEndpoint(EndpointOptions{});
  REQUIRE(local);
  CHECK(local->is_unix_socket);
  CHECK(local->name == "/run/vigie/vigie.sock");
}

}  // namespace
}  // namespace vigie::cli
