#pragma once

#include <sys/types.h>

#include <string_view>
#include <vector>

#include "vigie/result.h"

namespace vigie {

// Who is at the other end of a connected unix socket, as the kernel recorded it at connect():
// SO_PEERCRED for the ids, SO_PEERGROUPS for the supplementary groups. Neither can be forged by
// the peer, and both stay what they were at connect() even if the peer changes ids later.
struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups.
};

Result<PeerCredentials> readPeerCredentials(int fd);

// The supplementary groups on the "Groups:" line of a /proc/PID/status text (empty when there
// is no such line). The fallback for kernels without SO_PEERGROUPS (before Linux 4.13).
std::vector<gid_t> groupsFromProcStatus(std::string_view status);

}  // namespace vigie
