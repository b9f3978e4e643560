#include "agent/logs/output_queue.h"

#include <utility>

namespace vigie {

OutputQueue::OutputQueue(size_t max_bytes) : max_bytes_(max_bytes) {}

bool OutputQueue::canCoalesce(const OutputMessage& header, size_t size) const {
  if (queue_.empty() || header.dropped_before != 0) {
    return false;
  }
  const OutputMessage& last = queue_.back();
  return last.kind == OutputMessage::Kind::kData && last.channel == header.channel &&
         last.stream == header.stream && last.instance_id == header.instance_id &&
         last.to_file == header.to_file && last.to_journal == header.to_journal &&
         last.data.size() + size <= kMaxCoalescedBytes;
}

OutputQueue::PushResult OutputQueue::pushData(OutputMessage header, std::string_view data) {
  bool notify = false;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) {
      return PushResult::kDropped;
    }
    if (queued_bytes_ + data.size() > max_bytes_) {
      overflow_dropped_ += data.size();
      return std::exchange(overflowing_, true) ? PushResult::kDropped : PushResult::kDroppedFirst;
    }
    queued_bytes_ += data.size();
    if (canCoalesce(header, data.size())) {
      queue_.back().data.append(data);
    } else {
      header.kind = OutputMessage::Kind::kData;
      header.data.assign(data);
      queue_.push_back(std::move(header));
    }
    notify = std::exchange(writer_waiting_, false) && !paused_;
  }
  if (notify) {
    wake_writer_.notify_one();
  }
  return PushResult::kQueued;
}

void OutputQueue::pushControl(OutputMessage message) {
  bool notify = false;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) {
      return;
    }
    queue_.push_back(std::move(message));
    notify = std::exchange(writer_waiting_, false) && !paused_;
  }
  if (notify) {
    wake_writer_.notify_one();
  }
}

OutputQueue::Popped OutputQueue::pop(std::optional<Clock::time_point> wake_at) {
  std::unique_lock lock(mutex_);
  writer_busy_ = false;
  for (;;) {
    if (stopped_ && (queue_.empty() || Clock::now() >= drain_deadline_)) {
      idle_.notify_all();
      return Popped{std::nullopt, true};
    }
    if (!queue_.empty() && (!paused_ || stopped_)) {
      break;
    }
    if (wake_at && Clock::now() >= *wake_at) {
      writer_busy_ = true;  // the caller has timed work to do.
      return Popped{};
    }
    idle_.notify_all();
    writer_waiting_ = true;
    if (wake_at) {
      wake_writer_.wait_until(lock, *wake_at);
    } else {
      wake_writer_.wait(lock);
    }
    writer_waiting_ = false;
  }
  OutputMessage message = std::move(queue_.front());
  queue_.pop_front();
  queued_bytes_ -= message.data.size();
  if (overflowing_ && queued_bytes_ <= max_bytes_ / 2) {
    overflowing_ = false;
    overflow_ended_dropped_ += std::exchange(overflow_dropped_, 0);
  }
  writer_busy_ = true;
  return Popped{std::move(message), false};
}

uint64_t OutputQueue::takeOverflowEnded() {
  std::lock_guard lock(mutex_);
  return std::exchange(overflow_ended_dropped_, 0);
}

void OutputQueue::stop(Clock::time_point drain_deadline) {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    drain_deadline_ = drain_deadline;
  }
  wake_writer_.notify_one();
}

std::vector<OutputMessage> OutputQueue::takeRemaining() {
  std::lock_guard lock(mutex_);
  std::vector<OutputMessage> remaining(std::make_move_iterator(queue_.begin()),
                                       std::make_move_iterator(queue_.end()));
  queue_.clear();
  queued_bytes_ = 0;
  return remaining;
}

size_t OutputQueue::queuedBytes() const {
  std::lock_guard lock(mutex_);
  return queued_bytes_;
}

void OutputQueue::pauseForTest(bool paused) {
  {
    std::lock_guard lock(mutex_);
    paused_ = paused;
  }
  wake_writer_.notify_one();
}

void OutputQueue::waitIdleForTest() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return queue_.empty() && !writer_busy_; });
}

}  // namespace vigie
