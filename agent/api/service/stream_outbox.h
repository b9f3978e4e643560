#pragma once

#include <grpcpp/support/status.h>

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <utility>

namespace vigie {

// What an outbox writes to: a gRPC ServerWriteReactor in production (stream_reactor.h), a
// recording fake in tests. The outbox guarantees one write in flight at a time, no write after
// finish(), and finish() exactly once, after the last write has completed.
template <class Response>
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  virtual void sendHeaders() = 0;  // completes through the outbox's writeDone(), like a write.
  virtual void startWrite(const Response* message) = 0;
  virtual void finish(const grpc::Status& status) = 0;
};

// What every outbox can do, whatever it carries: the service ends all open streams through it.
class StreamControl {
 public:
  virtual ~StreamControl() = default;
  // Ends the stream with `status`: after what is queued when `drain`, else at once (after the
  // write in flight). The first end asked for wins.
  virtual void close(const grpc::Status& status, bool drain) = 0;
  virtual bool closed() const = 0;
};

// The messages waiting for one server stream, bounded by a cost (messages for events, bytes for
// output), and the stream's write protocol. Thread-safe: the loop thread pushes, gRPC threads
// report completed writes and cancellations. Shared (std::shared_ptr) between the reactor and the
// hubs, so that a hub never touches a reactor that is gone: once the stream is done, the writer
// is detached and pushes are refused.
//
// Calls into the writer happen outside the lock: a writer may run its completion inline.
template <class Response>
class StreamOutbox final : public StreamControl {
 public:
  enum class PushResult { kQueued, kFull, kClosed };
  // Folds `next` into the last queued message instead of queueing it; returns whether it did.
  using Merge = std::function<bool(Response& last, const Response& next)>;

  // `max_cost`: what may wait at most (0: no bound).
  explicit StreamOutbox(size_t max_cost) : max_cost_(max_cost) {}

  void attach(StreamWriter<Response>* writer) {
    std::lock_guard<std::mutex> lock(mutex_);
    writer_ = writer;
  }

  // Queues `message`, unless that would take the queued cost past the bound (a message of cost 0
  // always fits) or the stream is closing.
  PushResult push(Response message, size_t cost, const Merge& merge = nullptr) {
    Action action;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closing_ || writer_ == nullptr) {
        return PushResult::kClosed;
      }
      if (max_cost_ > 0 && cost > 0 && queued_cost_ + cost > max_cost_) {
        return PushResult::kFull;
      }
      if (!(merge && !queue_.empty() && merge(queue_.back().message, message))) {
        queue_.push_back(Entry{std::move(message), 0});
      }
      queue_.back().cost += cost;
      queued_cost_ += cost;
      action = nextLocked();
    }
    perform(action);
    return PushResult::kQueued;
  }

  // Sends the response headers now, unless a message goes first: a client that waits for them
  // knows the stream is set up (subscribed) before anything happens.
  void sendHeaders() {
    Action action;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      headers_wanted_ = !started_;
      action = nextLocked();
    }
    perform(action);
  }

  void close(const grpc::Status& status, bool drain) override {
    Action action;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closing_) {
        return;
      }
      closing_ = true;
      status_ = status;
      drain_ = drain;
      if (!drain) {
        clearLocked();
      }
      action = nextLocked();
    }
    perform(action);
  }

  // The client went away (or the server is shutting down): nothing more can be delivered.
  void cancel() {
    Action action;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!closing_) {
        status_ = grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled the stream");
      }
      closing_ = true;
      drain_ = false;
      clearLocked();
      action = nextLocked();
    }
    perform(action);
  }

  void writeDone(bool ok) {
    Action action;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      writing_ = false;
      if (!ok) {
        // The stream is broken (cancelled, or the connection went): stop writing.
        if (!closing_) {
          status_ = grpc::Status(grpc::StatusCode::CANCELLED, "the stream was cancelled");
        }
        closing_ = true;
        drain_ = false;
        clearLocked();
      }
      action = nextLocked();
    }
    perform(action);
  }

  // The stream is done (the reactor's OnDone): the writer is gone.
  void detach() {
    std::lock_guard<std::mutex> lock(mutex_);
    writer_ = nullptr;
    closing_ = true;
    clearLocked();
  }

  bool closed() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return closing_;
  }
  size_t queuedMessages() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return queue_.size();
  }
  size_t queuedCost() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return queued_cost_;
  }
  // The status the stream ended with (meaningful once closed).
  grpc::Status status() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return status_;
  }

 private:
  struct Entry {
    Response message;
    size_t cost = 0;
  };
  enum class ActionKind { kNone, kHeaders, kWrite, kFinish };
  struct Action {
    ActionKind kind = ActionKind::kNone;
    StreamWriter<Response>* writer = nullptr;
    grpc::Status status;
  };

  // Decides the next call into the writer. Only one caller can win a write (writing_) or the
  // finish (finished_), and no finish is decided while a write is in flight: the writer cannot
  // be gone between the decision and the call.
  Action nextLocked() {
    if (writer_ == nullptr || finished_ || writing_) {
      return {};
    }
    if (closing_ && (!drain_ || queue_.empty())) {
      finished_ = true;
      return Action{ActionKind::kFinish, writer_, status_};
    }
    if (headers_wanted_ && !started_) {
      headers_wanted_ = false;
      started_ = true;
      writing_ = true;
      return Action{ActionKind::kHeaders, writer_, {}};
    }
    if (queue_.empty()) {
      return {};
    }
    started_ = true;
    in_flight_ = std::move(queue_.front().message);
    queued_cost_ -= queue_.front().cost;
    queue_.pop_front();
    writing_ = true;
    return Action{ActionKind::kWrite, writer_, {}};
  }

  void perform(const Action& action) {
    switch (action.kind) {
      case ActionKind::kNone:
        return;
      case ActionKind::kHeaders:
        action.writer->sendHeaders();
        return;
      case ActionKind::kWrite:
        action.writer->startWrite(&in_flight_);  // in_flight_ stays put until writeDone().
        return;
      case ActionKind::kFinish:
        action.writer->finish(action.status);
        return;
    }
  }

  void clearLocked() {
    queue_.clear();
    queued_cost_ = 0;
  }

  const size_t max_cost_;
  mutable std::mutex mutex_;
  StreamWriter<Response>* writer_ = nullptr;
  std::deque<Entry> queue_;
  size_t queued_cost_ = 0;
  Response in_flight_;
  bool writing_ = false;  // a write (or the headers) in flight.
  bool started_ = false;  // headers or a message went out: the headers are sent.
  bool headers_wanted_ = false;
  bool closing_ = false;   // no more pushes; finish once the queue is drained (or at once).
  bool drain_ = false;     // closing after what is queued.
  bool finished_ = false;  // the writer's finish() was called.
  grpc::Status status_;
};

}  // namespace vigie
