#include "agent/crash/store_worker.h"

namespace vigie::crash {

StoreWorker::StoreWorker(Dispatcher& dispatcher)
    : dispatcher_(dispatcher), thread_([this] { run(); }) {}

StoreWorker::StoreWorker(Dispatcher& dispatcher, InlineForTest)
    : dispatcher_(dispatcher), inline_(true) {}

StoreWorker::~StoreWorker() {
  stop();
}

void StoreWorker::stop() {
  if (inline_ || !thread_.joinable()) {
    return;
  }
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void StoreWorker::submit(Job job) {
  if (inline_) {
    if (Continuation then = job()) {
      dispatcher_.post(std::move(then));
    }
    return;
  }
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void StoreWorker::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) {
        return;
      }
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    if (Continuation then = job()) {
      dispatcher_.post(std::move(then));
    }
  }
}

}  // namespace vigie::crash
