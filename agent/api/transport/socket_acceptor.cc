#include "agent/api/transport/socket_acceptor.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

namespace vigie {

Result<std::unique_ptr<SocketAcceptor>> SocketAcceptor::start(UniqueFd listening,
                                                              OnAccepted on_accepted) {
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake) {
    return Error::fromErrno("eventfd");
  }
  UniqueFd spare(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!spare) {
    return Error::fromErrno("open /dev/null");
  }
  std::unique_ptr<SocketAcceptor> acceptor(new SocketAcceptor(
      std::move(listening), std::move(wake), std::move(spare), std::move(on_accepted)));
  acceptor->thread_ = std::thread([raw = acceptor.get()] { raw->run(); });
  return acceptor;
}

SocketAcceptor::SocketAcceptor(UniqueFd listening, UniqueFd wake, UniqueFd spare,
                               OnAccepted on_accepted)
    : listening_(std::move(listening)),
      wake_(std::move(wake)),
      spare_(std::move(spare)),
      on_accepted_(std::move(on_accepted)) {}

void SocketAcceptor::stop() {
  if (!thread_.joinable()) {
    return;
  }
  const uint64_t one = 1;
  while (::write(wake_.get(), &one, sizeof one) < 0 && errno == EINTR) {
  }
  thread_.join();
  listening_.reset();
}

void SocketAcceptor::run() {
  ::pthread_setname_np(::pthread_self(), "api-acceptor");
  pollfd fds[2] = {{listening_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  while (true) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      spdlog::error("api: poll on the API socket failed ({}); no more connections are accepted",
                    std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) {
      return;
    }
    if (fds[0].revents != 0) {
      acceptPending();
    }
  }
}

void SocketAcceptor::acceptPending() {
  while (true) {
    UniqueFd connection(
        ::accept4(listening_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (connection) {
      out_of_fds_logged_ = false;
      on_accepted_(std::move(connection));
      continue;
    }
    switch (errno) {
      case EINTR:
      case ECONNABORTED:
        continue;
      case EMFILE:
      case ENFILE:
        if (dropOneConnection()) {
          continue;
        }
        return;
      default:
        return;  // EAGAIN: nothing left to accept.
    }
  }
}

// Out of fds, the pending connection would keep the socket readable and this thread spinning.
// Freeing the spare fd lets us take the connection and close it at once: that client sees the
// connection drop, everyone else keeps waiting in the backlog until fds are free again.
bool SocketAcceptor::dropOneConnection() {
  if (!out_of_fds_logged_) {
    spdlog::warn("api: out of file descriptors; dropping connections to the API socket");
    out_of_fds_logged_ = true;
  }
  spare_.reset();
  const bool dropped =
      UniqueFd(::accept4(listening_.get(), nullptr, nullptr, SOCK_CLOEXEC)).valid();
  spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  return dropped;
}

}  // namespace vigie
