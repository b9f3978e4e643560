#include "agent/api/transport/socket_access.h"

#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace vigie {

bool socketAllows(const PeerCredentials& peer, const SocketAccessRule& rule) {
  if (peer.uid == 0) {
    return true;
  }
  return !rule.group_name.empty() &&
         (peer.gid == rule.group ||
          std::find(peer.groups.begin(), peer.groups.end(), rule.group) != peer.groups.end());
}

std::string socketRefusal(const PeerCredentials& peer, const SocketAccessRule& rule,
                          std::string_view user_name) {
  const std::string who = user_name.empty() ? fmt::format("uid {}", peer.uid)
                                            : fmt::format("uid {} ({})", peer.uid, user_name);
  const std::string allowed = rule.group_name.empty()
                                  ? std::string("root")
                                  : fmt::format("root and members of group '{}'", rule.group_name);
  return fmt::format("{} may not call vigied: only {} may use {}", who, allowed, rule.socket_path);
}

std::string userNameOf(uid_t uid) {
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(size > 0 ? static_cast<size_t>(size) : 16384);
  passwd entry{};
  passwd* found = nullptr;
  while (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == ERANGE) {
    buffer.resize(buffer.size() * 2);
  }
  return found != nullptr ? std::string(found->pw_name) : std::string();
}

}  // namespace vigie
