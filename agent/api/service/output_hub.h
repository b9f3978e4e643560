#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/api/service/stream_outbox.h"
#include "vigie/output.h"
#include "vigie/v1/agent.pb.h"

namespace vigie {

using OutputOutbox = StreamOutbox<v1::ReadOutputResponse>;

// ReadOutputResponse.data is at most this long.
inline constexpr size_t kOutputChunkBytes = size_t{64} * 1024;

// Appends `data` to `outbox` as chunks of at most kOutputChunkBytes, outside the outbox's bound
// (a tail copy is bounded by the unit's output.tail already). `dropped` goes on the first chunk.
void pushTail(OutputOutbox& outbox, uint64_t instance_id, v1::OutputStream stream,
              std::string_view data, uint64_t dropped);

// The ReadOutput streams that follow a unit's output: new output of the units (through
// OutputTee) goes to the followers of that unit, and instance ends (from the API's events) mark
// the end of an instance's output. Each follower's queue is bounded in bytes
// (ApiLimitsSpec::output_queue_bytes): what does not fit is dropped and reported in the next
// chunk's dropped_bytes, so a slow reader never makes the agent buffer without bound.
//
// Loop thread only.
class OutputHub {
 public:
  struct Follower {
    std::shared_ptr<OutputOutbox> outbox;
    uint64_t first_instance = 0;  // output of this instance and the later ones.
    bool want_stdout = true;
    bool want_stderr = true;
    uint64_t ended_through = 0;  // instance_ended already sent up to this id.
  };

  void follow(const std::string& unit, Follower follower);
  void write(const std::string& unit, OutputStream stream, uint64_t instance_id,
             std::string_view data);
  // Every byte of the instance's output that was read is out: the followers get instance_ended.
  void instanceEnded(const std::string& unit, uint64_t instance_id);

  size_t followers() const;

 private:
  struct State {
    Follower follower;
    uint64_t dropped = 0;  // bytes dropped since the last chunk that was queued.
  };

  std::vector<State>* followersOf(const std::string& unit);

  std::map<std::string, std::vector<State>, std::less<>> units_;
};

}  // namespace vigie
