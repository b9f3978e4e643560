#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "vigie/dispatcher.h"

namespace vigie::crash {

// Runs the incident store's disk I/O off the loop, one job at a time, in order. A job returns
// what the loop should do with its outcome; that continuation is post()ed to the loop. The
// destructor finishes the queued jobs, then joins (their continuations may then never run).
class StoreWorker {
 public:
  using Continuation = std::function<void()>;
  using Job = std::function<Continuation()>;

  explicit StoreWorker(Dispatcher& dispatcher);
  // Runs each job inside submit() on the caller's thread (the continuation is still posted):
  // for tests with a fake dispatcher, whose post() is not thread-safe.
  struct InlineForTest {};
  StoreWorker(Dispatcher& dispatcher, InlineForTest);
  StoreWorker(const StoreWorker&) = delete;
  StoreWorker& operator=(const StoreWorker&) = delete;
  ~StoreWorker();  // stop()

  // Runs the jobs already submitted, then ends the thread. Whoever owns what the jobs refer to
  // (the tracker) calls it before that goes. Idempotent.
  void stop();

  void submit(Job job);

 private:
  void run();

  Dispatcher& dispatcher_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  bool inline_ = false;
  std::thread thread_;
};

}  // namespace vigie::crash
