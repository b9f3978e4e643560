#pragma once

#include <signal.h>
#include <sys/signalfd.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "agent/event/timer_set.h"
#include "agent/os/unique_fd.h"
#include "vigie/dispatcher.h"
#include "vigie/result.h"

namespace vigie {

// The one event loop: epoll over fds, one timerfd armed to the earliest timer, an eventfd that
// wakes the loop for post(), and optionally a signalfd. Owned and run by one thread.
class EventLoop final : public Dispatcher {
 public:
  using SignalCallback = std::function<void(const signalfd_siginfo&)>;

  static Result<std::unique_ptr<EventLoop>> create();
  ~EventLoop() override;

  MonoTime monotonicNow() const override;
  WallTime wallNow() const override;
  TimerPtr createTimer(Callback on_fire) override;
  FdWatchPtr watchFd(int fd, uint32_t interest, FdCallback on_ready) override;
  void post(Callback work) override;

  // Blocks `signals` for the calling thread (call before other threads exist, so they inherit
  // the mask) and delivers them through a signalfd instead of handlers.
  Status watchSignals(const sigset_t& signals, SignalCallback on_signal);

  // Runs until exit() is called.
  void run();
  // One wait of at most `max_wait` and the dispatch of whatever is ready. For tests.
  void runOnce(Duration max_wait);
  void exit() { exit_requested_ = true; }

 private:
  class WatchImpl;

  EventLoop(UniqueFd epoll, UniqueFd timer, UniqueFd wake);

  void dispatch(int timeout_ms);
  void fireDueTimers();
  void armTimerFd();
  void drainPosted();
  uint64_t addToEpoll(int fd, uint32_t interest, WatchImpl* watch);

  UniqueFd epoll_fd_;
  UniqueFd timer_fd_;
  UniqueFd wake_fd_;
  UniqueFd signal_fd_;
  FdWatchPtr timer_watch_;
  FdWatchPtr wake_watch_;
  FdWatchPtr signal_watch_;

  TimerSet timers_;
  MonoTime armed_deadline_{};
  bool timer_fd_armed_ = false;

  std::unordered_map<uint64_t, WatchImpl*> watches_;
  uint64_t next_watch_id_ = 1;

  std::mutex posted_mutex_;
  std::vector<Callback> posted_;

  bool exit_requested_ = false;
};

}  // namespace vigie
