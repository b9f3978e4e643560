#include "agent/api/service/event_hub.h"

#include <algorithm>
#include <string>

#include "agent/api/api_events.h"

namespace vigie {

EventHub::EventHub(size_t queue_limit, ApiCallRecorder* recorder)
    : queue_limit_(std::max<size_t>(queue_limit, 1)), recorder_(recorder) {}

std::shared_ptr<EventOutbox> EventHub::newOutbox() const {
  return std::make_shared<EventOutbox>(queue_limit_);
}

void EventHub::subscribe(std::shared_ptr<EventOutbox> outbox,
                         const std::vector<std::string>& units) {
  auto subscriber = std::make_shared<Subscriber>();
  subscriber->outbox = std::move(outbox);
  subscriber->units.insert(units.begin(), units.end());
  std::lock_guard<std::mutex> lock(mutex_);
  std::erase_if(subscribers_, [](const auto& s) { return s->outbox->closed(); });
  subscribers_.push_back(std::move(subscriber));
}

bool EventHub::wants(const Subscriber& subscriber, const v1::Event& event) const {
  if (subscriber.units.empty()) {
    return true;
  }
  const std::string& unit = eventUnit(event);
  return unit.empty() || subscriber.units.count(unit) > 0;
}

void EventHub::cutOff(EventOutbox& outbox) {
  const std::string message =
      "too slow: " + std::to_string(queue_limit_) + " events queued; resync with Heartbeat";
  outbox.close(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, message), /*drain=*/false);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++cut_offs_;
  }
  if (recorder_ != nullptr) {
    recorder_->streamCutOff("WatchEvents");
  }
}

void EventHub::publishEvents(const std::vector<v1::Event>& events) {
  if (events.empty()) {
    return;
  }
  std::vector<std::shared_ptr<Subscriber>> subscribers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::erase_if(subscribers_, [](const auto& s) { return s->outbox->closed(); });
    subscribers = subscribers_;
  }
  for (const auto& subscriber : subscribers) {
    for (const v1::Event& event : events) {
      if (!wants(*subscriber, event)) {
        continue;
      }
      v1::WatchEventsResponse response;
      *response.mutable_event() = event;
      const auto result = subscriber->outbox->push(std::move(response), 1);
      if (result == EventOutbox::PushResult::kFull) {
        cutOff(*subscriber->outbox);
      }
      if (result != EventOutbox::PushResult::kQueued) {
        break;
      }
    }
  }
}

size_t EventHub::subscribers() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<size_t>(std::count_if(subscribers_.begin(), subscribers_.end(),
                                           [](const auto& s) { return !s->outbox->closed(); }));
}

uint64_t EventHub::cutOffs() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cut_offs_;
}

}  // namespace vigie
