#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "agent/api/service/stream_outbox.h"

namespace vigie {

// The open server streams (WatchEvents and ReadOutput): at most `max_streams` at once, and all
// of them ended by closeAll() when the agent stops. Thread-safe.
class StreamRegistry {
 public:
  enum class AddResult { kAdded, kFull, kClosing };

  explicit StreamRegistry(size_t max_streams) : max_streams_(max_streams) {}

  AddResult add(const std::shared_ptr<StreamControl>& stream, uint64_t* slot) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closing_) {
      return AddResult::kClosing;
    }
    if (streams_.size() >= max_streams_) {
      return AddResult::kFull;
    }
    *slot = next_slot_++;
    streams_.emplace(*slot, stream);
    return AddResult::kAdded;
  }

  void remove(uint64_t slot) {
    std::lock_guard<std::mutex> lock(mutex_);
    streams_.erase(slot);
  }

  // Refuses new streams and ends the open ones with `status`, after what they have queued (the
  // server's shutdown cancels a consumer that does not take it).
  void closeAll(const grpc::Status& status) {
    std::map<uint64_t, std::weak_ptr<StreamControl>> streams;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closing_ = true;
      streams = streams_;
    }
    for (auto& [slot, weak] : streams) {
      if (auto stream = weak.lock()) {
        stream->close(status, /*drain=*/true);
      }
    }
  }

  size_t open() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return streams_.size();
  }
  size_t maxStreams() const { return max_streams_; }

 private:
  const size_t max_streams_;
  mutable std::mutex mutex_;
  bool closing_ = false;
  uint64_t next_slot_ = 1;
  std::map<uint64_t, std::weak_ptr<StreamControl>> streams_;
};

}  // namespace vigie
