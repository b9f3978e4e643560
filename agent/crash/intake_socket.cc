#include "agent/crash/intake_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>
#include <filesystem>

namespace vigie::crash {

Result<std::unique_ptr<IntakeSocket>> IntakeSocket::bind(Dispatcher& dispatcher, std::string path,
                                                         OnEntry on_entry) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) {
    return Error{"intake socket path too long: " + path, ENAMETOOLONG};
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  if (const auto parent = std::filesystem::path(path).parent_path(); !parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    return Error::fromErrno("socket");
  }
  ::unlink(path.c_str());
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    return Error::fromErrno("bind " + path);
  }
  ::chmod(path.c_str(), 0600);
  std::unique_ptr<IntakeSocket> socket(
      new IntakeSocket(std::move(path), std::move(fd), std::move(on_entry)));
  IntakeSocket* raw = socket.get();
  socket->watch_ =
      dispatcher.watchFd(raw->fd_.get(), kFdReadable, [raw](uint32_t) { raw->drain(); });
  return socket;
}

IntakeSocket::IntakeSocket(std::string path, UniqueFd fd, OnEntry on_entry)
    : path_(std::move(path)), fd_(std::move(fd)), on_entry_(std::move(on_entry)) {}

IntakeSocket::~IntakeSocket() {
  watch_.reset();
  ::unlink(path_.c_str());
}

void IntakeSocket::drain() {
  char buffer[256];
  for (;;) {
    const ssize_t got = ::recv(fd_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;  // EAGAIN: drained.
    }
    on_entry_(std::string(buffer, static_cast<size_t>(got)));
  }
}

}  // namespace vigie::crash
