#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "agent/health/notify_router.h"
#include "agent/os/unique_fd.h"
#include "vigie/dispatcher.h"
#include "vigie/result.h"

namespace vigie {

// The sd_notify socket for workloads: one AF_UNIX datagram socket, bound at `path` (its path is
// what workloads get as NOTIFY_SOCKET) with SO_PASSCRED, so that every datagram carries the
// sender's pid as the kernel saw it. Watched on the loop; each datagram goes to the router.
// Loop thread only.
class NotifySocket {
 public:
  // The largest datagram taken, as systemd's NOTIFY_BUFFER_MAX; longer ones are dropped.
  static constexpr size_t kMaxDatagram = 4096;
  // Datagrams read per wakeup, so that a flood cannot starve the rest of the loop.
  static constexpr int kMaxPerWakeup = 64;

  // Binds `path` (a stale socket from an earlier run is replaced), mode 0666 so that workloads
  // running as other users can send too: a datagram counts only by its sender's pid.
  static Result<std::unique_ptr<NotifySocket>> open(Dispatcher& dispatcher, std::string path,
                                                    NotifyRouter& router);
  ~NotifySocket();  // unlinks the path.
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::string& path() const { return path_; }
  // Datagrams dropped: too long, or without credentials.
  uint64_t malformed() const { return malformed_; }

 private:
  NotifySocket(std::string path, UniqueFd fd, NotifyRouter& router)
      : path_(std::move(path)), fd_(std::move(fd)), router_(router) {}
  void onReadable();

  std::string path_;
  UniqueFd fd_;
  NotifyRouter& router_;
  FdWatchPtr watch_;
  uint64_t malformed_ = 0;
};

}  // namespace vigie
