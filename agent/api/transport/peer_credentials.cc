#include "agent/api/transport/peer_credentials.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string>

#include "agent/os/unique_fd.h"

namespace vigie {
namespace {

// A peer with more groups than this is unusual enough (NGROUPS_MAX is 65536) to be read in a
// second, exactly sized call.
constexpr size_t kInitialGroups = 64;

Result<std::vector<gid_t>> peerGroups(int fd) {
  std::vector<gid_t> groups(kInitialGroups);
  socklen_t length = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &length) != 0) {
    if (errno != ERANGE) {
      return Error::fromErrno("getsockopt(SO_PEERGROUPS)");
    }
    groups.resize(length / sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &length) != 0) {
      return Error::fromErrno("getsockopt(SO_PEERGROUPS)");
    }
  }
  groups.resize(length / sizeof(gid_t));
  return groups;
}

std::string readSmallFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  std::string text;
  if (!fd) {
    return text;
  }
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::read(fd.get(), buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) {
      text.append(buffer, static_cast<size_t>(n));
    }
  }
  return text;
}

}  // namespace

std::vector<gid_t> groupsFromProcStatus(std::string_view status) {
  constexpr std::string_view kKey = "Groups:";
  std::vector<gid_t> groups;
  while (!status.empty()) {
    const size_t end_of_line = status.find('\n');
    std::string_view line = status.substr(0, end_of_line);
    status =
        end_of_line == std::string_view::npos ? std::string_view() : status.substr(end_of_line + 1);
    if (!line.starts_with(kKey)) {
      continue;
    }
    line.remove_prefix(kKey.size());
    while (!line.empty()) {
      if (line.front() == ' ' || line.front() == '\t') {
        line.remove_prefix(1);
        continue;
      }
      gid_t gid = 0;
      const auto [next, ec] = std::from_chars(line.data(), line.data() + line.size(), gid);
      if (ec != std::errc()) {
        break;
      }
      groups.push_back(gid);
      line.remove_prefix(static_cast<size_t>(next - line.data()));
    }
    break;
  }
  return groups;
}

Result<PeerCredentials> readPeerCredentials(int fd) {
  ucred credentials{};
  socklen_t length = sizeof credentials;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
    return Error::fromErrno("getsockopt(SO_PEERCRED)");
  }
  PeerCredentials peer{credentials.pid, credentials.uid, credentials.gid, {}};
  Result<std::vector<gid_t>> groups = peerGroups(fd);
  if (groups) {
    peer.groups = std::move(*groups);
  } else if (groups.error().errno_value == ENOPROTOOPT && peer.pid > 0) {
    // Racy (the peer may have exec'd or exited since connect), but the best an old kernel gives.
    peer.groups =
        groupsFromProcStatus(readSmallFile("/proc/" + std::to_string(peer.pid) + "/status"));
  } else {
    return groups.error();
  }
  return peer;
}

}  // namespace vigie
