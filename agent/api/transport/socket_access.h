#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "agent/api/transport/peer_credentials.h"

namespace vigie {

// Who may use the agent's unix socket: root, and the members of one group (by primary or
// supplementary gid). They may call everything; nobody else may call anything.
struct SocketAccessRule {
  std::string socket_path;
  std::string group_name;  // "": root only.
  gid_t group = 0;         // meaningful when group_name is not empty.
};

bool socketAllows(const PeerCredentials& peer, const SocketAccessRule& rule);

// Why `peer` may not call, in words meant for the refused user: "uid 65534 (nobody) may not call
// vigied: only root and members of group 'vigie' may use /run/vigie/vigie.sock". `user_name` is
// the peer's user name ("" when it has none).
std::string socketRefusal(const PeerCredentials& peer, const SocketAccessRule& rule,
                          std::string_view user_name);

// The name of `uid` through NSS; "" when it has none.
std::string userNameOf(uid_t uid);

}  // namespace vigie
