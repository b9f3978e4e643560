#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "agent/api/access.h"
#include "agent/api/event_sink.h"
#include "agent/api/service/stream_outbox.h"
#include "vigie/v1/agent.pb.h"

namespace vigie {

using EventOutbox = StreamOutbox<v1::WatchEventsResponse>;

// Fans the API's events out to the WatchEvents streams. Each stream has its own bounded queue
// (ApiLimitsSpec::event_queue events): a consumer that lets it fill up is cut off with
// RESOURCE_EXHAUSTED, counted through the ApiCallRecorder, and must resync with Heartbeat. The
// loop never waits for a consumer and never buffers past the bound.
//
// Thread-safe: the loop publishes, gRPC threads subscribe.
class EventHub final : public ApiEventSink {
 public:
  // `recorder` (optional) counts the cut-offs.
  EventHub(size_t queue_limit, ApiCallRecorder* recorder);

  size_t queueLimit() const { return queue_limit_; }
  // An outbox for a new stream, bounded by the queue limit.
  std::shared_ptr<EventOutbox> newOutbox() const;

  // `units`: only the events of these units, and the agent-wide ones; empty: every event.
  void subscribe(std::shared_ptr<EventOutbox> outbox, const std::vector<std::string>& units);

  // Loop thread, in order.
  void publishEvents(const std::vector<v1::Event>& events) override;

  size_t subscribers() const;
  uint64_t cutOffs() const;

 private:
  struct Subscriber {
    std::shared_ptr<EventOutbox> outbox;
    std::set<std::string, std::less<>> units;  // empty: all.
  };

  bool wants(const Subscriber& subscriber, const v1::Event& event) const;
  void cutOff(EventOutbox& outbox);

  const size_t queue_limit_;
  ApiCallRecorder* const recorder_;
  mutable std::mutex mutex_;  // guards the list only; outboxes are called outside it.
  std::vector<std::shared_ptr<Subscriber>> subscribers_;
  uint64_t cut_offs_ = 0;
};

}  // namespace vigie
