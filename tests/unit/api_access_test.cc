// Who may call the API: the unix socket's rule (root and one group) with its refusal words, the
// peer credentials the kernel gives, and the TLS clients' roles.

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "agent/api/transport/access_policy.h"
#include "agent/api/transport/peer_credentials.h"
#include "agent/api/transport/socket_access.h"
#include "agent/os/unique_fd.h"

namespace vigie {
namespace {

const SocketAccessRule kGroupRule{"/run/vigie/vigie.sock", "vigie", 990};
const SocketAccessRule kRootOnly{"/run/vigie/vigie.sock", "", 0};

TEST_CASE("api access: root and members of the socket group may use the socket") {
  CHECK(socketAllows(PeerCredentials{1, 0, 0, {}}, kGroupRule));
  CHECK(socketAllows(PeerCredentials{1, 0, 5, {}}, kRootOnly));
  CHECK(socketAllows(PeerCredentials{1, 1000, 990, {}}, kGroupRule));          // primary group.
  CHECK(socketAllows(PeerCredentials{1, 1000, 1000, {27, 990}}, kGroupRule));  // supplementary.
  CHECK_FALSE(socketAllows(PeerCredentials{1, 1000, 1000, {27, 100}}, kGroupRule));
  CHECK_FALSE(socketAllows(PeerCredentials{1, 65534, 65534, {}}, kGroupRule));
  // Without a group, gid 0 is not root: only uid 0 is.
  CHECK_FALSE(socketAllows(PeerCredentials{1, 1000, 0, {0}}, kRootOnly));
}

TEST_CASE("api access: a refused peer is told why in plain words") {
  const PeerCredentials nobody{42, 65534, 65534, {}};
  CHECK(socketRefusal(nobody, kGroupRule, "nobody") ==
        "uid 65534 (nobody) may not call vigied: only root and members of group 'vigie' may use "
        "/run/vigie/vigie.sock");
  CHECK(socketRefusal(nobody, kRootOnly, "") ==
        "uid 65534 may not call vigied: only root may use /run/vigie/vigie.sock");
}

TEST_CASE("api access: user names come from NSS") {
  CHECK(userNameOf(0) == "root");
  CHECK(userNameOf(65534) == "nobody");
  CHECK(userNameOf(4'000'000'000U).empty());
}

TEST_CASE("api access: supplementary groups from /proc/PID/status") {
  CHECK(groupsFromProcStatus("Name:\tx\nGid:\t5\t5\t5\t5\nGroups:\t4 24 990 \nNgid:\t0\n") ==
        std::vector<gid_t>{4, 24, 990});
  CHECK(groupsFromProcStatus("Groups:\t7\n") == std::vector<gid_t>{7});
  CHECK(groupsFromProcStatus("Name:\tx\nGroups:\t\nNgid:\t0\n").empty());
  CHECK(groupsFromProcStatus("Name:\tx\n").empty());
}

TEST_CASE("api access: the kernel's record of a connected peer") {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  UniqueFd ours(fds[0]);
  UniqueFd theirs(fds[1]);
  Result<PeerCredentials> peer = readPeerCredentials(ours.get());
  REQUIRE(peer.ok());
  CHECK(peer->pid == ::getpid());
  CHECK(peer->uid == ::geteuid());
  CHECK(peer->gid == ::getegid());
  std::vector<gid_t> groups(static_cast<size_t>(::getgroups(0, nullptr)));
  groups.resize(static_cast<size_t>(::getgroups(static_cast<int>(groups.size()), groups.data())));
  CHECK(peer->groups == groups);

  CHECK_FALSE(readPeerCredentials(-1).ok());
}

const std::vector<ApiClientSpec> kClients{{"control-plane", ApiRole::kRead},
                                          {"sre-oncall", ApiRole::kAdmin},
                                          {"spiffe://fleet/poller", ApiRole::kRead}};

TEST_CASE("api access: a certificate's names map to a role") {
  const CertificateNames control{"control-plane", {}};
  CHECK(certificateAccess(control, kClients, ApiRole::kRead, "GetNode").ok());
  const grpc::Status denied = certificateAccess(control, kClients, ApiRole::kAdmin, "StopUnit");
  CHECK(denied.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(denied.error_message() == "client 'control-plane' has the read role; StopUnit needs admin");

  const CertificateNames sre{"sre-oncall", {"sre.example.org"}};
  CHECK(certificateAccess(sre, kClients, ApiRole::kAdmin, "StopUnit").ok());
  CHECK(certificateAccess(sre, kClients, ApiRole::kRead, "Heartbeat").ok());

  // A subject alternative name (here a URI) identifies the client as well as the common name.
  const CertificateNames poller{"poller-7", {"poller-7.example.org", "spiffe://fleet/poller"}};
  CHECK(certificateAccess(poller, kClients, ApiRole::kRead, "Heartbeat").ok());
  CHECK(certificateAccess(poller, kClients, ApiRole::kAdmin, "RestartUnit").error_message() ==
        "client 'spiffe://fleet/poller' has the read role; RestartUnit needs admin");
}

TEST_CASE("api access: an unknown certificate is refused by name") {
  const grpc::Status stranger = certificateAccess(
      CertificateNames{"stranger", {"stranger.example.org"}}, kClients, ApiRole::kRead, "GetNode");
  CHECK(stranger.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(stranger.error_message() ==
        "client 'stranger' may not call vigied: its certificate (CN stranger; SAN "
        "stranger.example.org) matches no identity in api.tcp.clients");
  CHECK(certificateAccess(CertificateNames{"", {"a.example.org"}}, kClients, ApiRole::kRead, "X")
            .error_message() ==
        "client 'a.example.org' may not call vigied: its certificate (SAN a.example.org) matches "
        "no identity in api.tcp.clients");
  CHECK(certificateAccess(CertificateNames{}, kClients, ApiRole::kRead, "X").error_message() ==
        "client '(unnamed)' may not call vigied: its certificate (no names) matches no identity "
        "in api.tcp.clients");
  // Without clients, nobody may call over TCP.
  CHECK_FALSE(certificateAccess(CertificateNames{"sre-oncall", {}}, {}, ApiRole::kRead, "X").ok());
}

TEST_CASE("api access: the first matching client decides") {
  const std::vector<ApiClientSpec> clients{{"host.example.org", ApiRole::kRead},
                                           {"sre-oncall", ApiRole::kAdmin}};
  // Both names match an entry: the one listed first wins, so order the list deliberately.
  const CertificateNames both{"sre-oncall", {"host.example.org"}};
  CHECK(certificateAccess(both, clients, ApiRole::kAdmin, "StopUnit").error_message() ==
        "client 'host.example.org' has the read role; StopUnit needs admin");
}

}  // namespace
}  // namespace vigie
