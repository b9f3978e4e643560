#include "agent/coredump/intake.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "agent/os/unique_fd.h"

namespace vigie::coredump {

Status notifyIntake(const std::string& socket_path, std::string_view entry_name) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(address.sun_path)) {
    return Error{"intake socket path too long: " + socket_path};
  }
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    return Error::fromErrno("socket");
  }
  const ssize_t sent = ::sendto(fd.get(), entry_name.data(), entry_name.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  if (sent < 0) {
    return Error::fromErrno("send to " + socket_path);
  }
  return {};
}

}  // namespace vigie::coredump
