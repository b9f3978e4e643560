#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/config.h"
#include "vigie/output.h"

namespace vigie {

struct LogChannel;  // one unit's state, see log_router.cc.

// Work for the log writer thread, in the order the loop produced it.
struct OutputMessage {
  enum class Kind { kOpen, kInstanceStarted, kData, kClose, kBudgetCheck, kSetStorage };

  Kind kind = Kind::kData;
  std::shared_ptr<LogChannel> channel;  // null for kBudgetCheck and kSetStorage.
  OutputStream stream = OutputStream::kStdout;
  uint64_t instance_id = 0;
  pid_t pid = 0;
  bool to_file = false;
  bool to_journal = false;
  OutputFileSpec file_spec;     // kOpen.
  uint64_t dropped_before = 0;  // kData: bytes of this stream dropped just before this data.
  std::string data;             // kData.
  StorageSpec storage;          // kSetStorage.
};

// The bounded queue between the loop thread and the log writer thread. The loop holds the lock
// only to append (no allocation beyond the copy of the data), the writer only to take the front
// message: no lock is ever held across I/O.
class OutputQueue {
 public:
  using Clock = std::chrono::steady_clock;

  enum class PushResult { kQueued, kDropped, kDroppedFirst /* first drop of an overflow */ };

  explicit OutputQueue(size_t max_bytes);

  // Loop side. Data beyond max_bytes is refused; control messages are small and always taken.
  // `header` is a kData message without its data: the bytes are copied in once, appended to the
  // last message when it is data of the same stream and instance.
  PushResult pushData(OutputMessage header, std::string_view data);
  void pushControl(OutputMessage message);

  struct Popped {
    std::optional<OutputMessage> message;  // nothing: `wake_at` passed, or finished.
    bool finished = false;  // stopped, and drained or past the drain deadline: the writer exits.
  };
  // Writer side: the next message, waiting for one until `wake_at` (forever when unset).
  Popped pop(std::optional<Clock::time_point> wake_at);
  // When the last overflow ended (the queue drained to half), the bytes it dropped; else 0.
  uint64_t takeOverflowEnded();

  // Stops accepting messages; pop() drains what is queued until `drain_deadline`.
  void stop(Clock::time_point drain_deadline);
  // What stop() left behind, for the caller to count as dropped.
  std::vector<OutputMessage> takeRemaining();

  size_t queuedBytes() const;
  size_t maxBytes() const { return max_bytes_; }

  // Test hooks: a paused writer takes nothing; waitIdle() returns once the queue is empty and
  // the writer is back waiting (it has finished the work of the last message).
  void pauseForTest(bool paused);
  void waitIdleForTest();

 private:
  static constexpr size_t kMaxCoalescedBytes = size_t{256} * 1024;

  bool canCoalesce(const OutputMessage& header, size_t size) const;

  const size_t max_bytes_;
  mutable std::mutex mutex_;
  std::condition_variable wake_writer_;
  std::condition_variable idle_;
  std::deque<OutputMessage> queue_;
  size_t queued_bytes_ = 0;
  bool writer_waiting_ = false;
  bool writer_busy_ = false;
  bool paused_ = false;
  bool stopped_ = false;
  Clock::time_point drain_deadline_{};
  bool overflowing_ = false;
  uint64_t overflow_dropped_ = 0;
  uint64_t overflow_ended_dropped_ = 0;
};

}  // namespace vigie
