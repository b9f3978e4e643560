#include "agent/health/notify_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace vigie {
namespace {

// Room for the credentials and for the fds a workload may attach (FDSTORE=1): those are closed
// at once, never kept.
constexpr size_t kMaxFds = 253;  // SCM_MAX_FD
constexpr size_t kControlSize = CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * kMaxFds);

}  // namespace

Result<std::unique_ptr<NotifySocket>> NotifySocket::open(Dispatcher& dispatcher, std::string path,
                                                         NotifyRouter& router) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    return Error{"notify socket path \"" + path + "\" is empty or too long", ENAMETOOLONG};
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    return Error::fromErrno("socket(AF_UNIX, SOCK_DGRAM)");
  }
  const int on = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) != 0) {
    return Error::fromErrno("setsockopt(SO_PASSCRED)");
  }
  struct stat existing {};
  if (::lstat(path.c_str(), &existing) == 0 && S_ISSOCK(existing.st_mode)) {
    ::unlink(path.c_str());  // left by an agent that did not stop cleanly.
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return Error::fromErrno("bind " + path);
  }
  if (::chmod(path.c_str(), 0666) != 0) {
    const Error error = Error::fromErrno("chmod " + path);
    ::unlink(path.c_str());
    return error;
  }
  std::unique_ptr<NotifySocket> socket(new NotifySocket(std::move(path), std::move(fd), router));
  NotifySocket* raw = socket.get();
  socket->watch_ =
      dispatcher.watchFd(raw->fd_.get(), kFdReadable, [raw](uint32_t) { raw->onReadable(); });
  if (!socket->watch_) {
    return Error::fromErrno("epoll_ctl(notify socket)");
  }
  return socket;
}

NotifySocket::~NotifySocket() {
  watch_.reset();
  ::unlink(path_.c_str());
}

void NotifySocket::onReadable() {
  for (int i = 0; i < kMaxPerWakeup; ++i) {
    std::array<char, kMaxDatagram + 1> buffer;
    alignas(cmsghdr) std::array<char, kControlSize> control;
    iovec iov{buffer.data(), buffer.size()};
    msghdr header{};
    header.msg_iov = &iov;
    header.msg_iovlen = 1;
    header.msg_control = control.data();
    header.msg_controllen = control.size();
    const ssize_t n = ::recvmsg(fd_.get(), &header, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
    if (n < 0) {
      return;  // EAGAIN: drained. Anything else would repeat: wait for the next wakeup.
    }
    const ucred* credentials = nullptr;
    for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
      if (c->cmsg_level != SOL_SOCKET) {
        continue;
      }
      if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof(ucred))) {
        credentials = reinterpret_cast<const ucred*>(CMSG_DATA(c));
      } else if (c->cmsg_type == SCM_RIGHTS) {
        const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t k = 0; k < count; ++k) {
          int passed = -1;
          std::memcpy(&passed, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
          ::close(passed);
        }
      }
    }
    if (credentials == nullptr || static_cast<size_t>(n) > kMaxDatagram ||
        (header.msg_flags & MSG_CTRUNC) != 0) {
      ++malformed_;
      continue;
    }
    router_.deliver(credentials->pid, std::string_view(buffer.data(), static_cast<size_t>(n)));
  }
}

}  // namespace vigie
