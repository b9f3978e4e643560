#pragma once

#include <memory>
#include <string>

#include "agent/os/unique_fd.h"
#include "vigie/dispatcher.h"
#include "vigie/result.h"

namespace vigie {

// Test-only (vigied's hidden --stall-loop-fifo-for-test): stalls the event loop on demand, so
// that a test can watch /healthz turn 503 without relying on timing. The test creates a FIFO and
// writes 's' into it: the loop thread then blocks until the test writes 'r'. Never wired
// otherwise.
class LoopStallKnob {
 public:
  static Result<std::unique_ptr<LoopStallKnob>> open(Dispatcher& dispatcher,
                                                     const std::string& fifo_path);
  LoopStallKnob(const LoopStallKnob&) = delete;
  LoopStallKnob& operator=(const LoopStallKnob&) = delete;

 private:
  LoopStallKnob(UniqueFd read_end, UniqueFd keep_open);
  void onReadable();
  void stallUntilReleased();

  UniqueFd read_end_;
  UniqueFd keep_open_;  // a writer of our own: the FIFO never reports hang-up when the test closes.
  FdWatchPtr watch_;
};

}  // namespace vigie
