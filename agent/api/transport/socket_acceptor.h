#pragma once

#include <functional>
#include <memory>
#include <thread>

#include "agent/os/unique_fd.h"
#include "vigie/result.h"

namespace vigie {

// Accepts connections on a listening socket, on a thread of its own, and hands each (non-blocking,
// close-on-exec) to `on_accepted` on that thread. The thread sleeps in poll() on the socket and
// on an eventfd that stop() signals: it wakes only for a connection or to end.
class SocketAcceptor {
 public:
  using OnAccepted = std::function<void(UniqueFd connection)>;

  static Result<std::unique_ptr<SocketAcceptor>> start(UniqueFd listening, OnAccepted on_accepted);
  ~SocketAcceptor() { stop(); }
  SocketAcceptor(const SocketAcceptor&) = delete;
  SocketAcceptor& operator=(const SocketAcceptor&) = delete;

  // Returns once the thread has ended and the listening socket is closed. Idempotent.
  void stop();

 private:
  SocketAcceptor(UniqueFd listening, UniqueFd wake, UniqueFd spare, OnAccepted on_accepted);
  void run();
  void acceptPending();
  bool dropOneConnection();

  UniqueFd listening_;
  UniqueFd wake_;   // eventfd: written by stop().
  UniqueFd spare_;  // kept open to free when out of fds (see dropOneConnection).
  OnAccepted on_accepted_;
  bool out_of_fds_logged_ = false;
  std::thread thread_;
};

}  // namespace vigie
