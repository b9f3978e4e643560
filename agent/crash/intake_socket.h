#pragma once

#include <functional>
#include <string>

#include "agent/os/unique_fd.h"
#include "vigie/dispatcher.h"
#include "vigie/result.h"

namespace vigie::crash {

// vigied's end of the helper's intake: a unix datagram socket on which vigie-coredump sends
// the name of each spool entry it publishes. Watched by the loop; receiving never blocks.
class IntakeSocket {
 public:
  using OnEntry = std::function<void(std::string entry)>;

  // Replaces a stale socket file at `path` (mode 0600: only root's helper may write).
  static Result<std::unique_ptr<IntakeSocket>> bind(Dispatcher& dispatcher, std::string path,
                                                    OnEntry on_entry);
  ~IntakeSocket();

 private:
  IntakeSocket(std::string path, UniqueFd fd, OnEntry on_entry);
  void drain();

  std::string path_;
  UniqueFd fd_;
  OnEntry on_entry_;
  FdWatchPtr watch_;
};

}  // namespace vigie::crash
