#include "agent/event/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <memory>

namespace vigie {

class EventLoop::WatchImpl final : public FdWatch {
 public:
  WatchImpl(EventLoop& loop, int fd, FdCallback on_ready)
      : loop_(loop), fd_(fd), on_ready_(std::make_shared<FdCallback>(std::move(on_ready))) {}
  ~WatchImpl() override {
    if (id_ != 0) {
      ::epoll_ctl(loop_.epoll_fd_.get(), EPOLL_CTL_DEL, fd_, nullptr);
      loop_.watches_.erase(id_);
    }
  }
  void setId(uint64_t id) { id_ = id; }
  // A callback may destroy its own watch (a pidfd watched once, then dropped): the reference
  // keeps the callback, and what it captured, alive until it returns.
  void ready(uint32_t events) {
    const std::shared_ptr<FdCallback> callback = on_ready_;
    (*callback)(events);
  }

 private:
  EventLoop& loop_;
  int fd_;
  std::shared_ptr<FdCallback> on_ready_;
  uint64_t id_ = 0;
};

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) {
    return Error::fromErrno("epoll_create1");
  }
  UniqueFd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!timer) {
    return Error::fromErrno("timerfd_create");
  }
  UniqueFd wake(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake) {
    return Error::fromErrno("eventfd");
  }
  return std::unique_ptr<EventLoop>(
      new EventLoop(std::move(epoll), std::move(timer), std::move(wake)));
}

EventLoop::EventLoop(UniqueFd epoll, UniqueFd timer, UniqueFd wake)
    : epoll_fd_(std::move(epoll)), timer_fd_(std::move(timer)), wake_fd_(std::move(wake)) {
  timer_watch_ = watchFd(timer_fd_.get(), kFdReadable, [this](uint32_t) {
    uint64_t expirations = 0;
    // The count is not needed: due timers are found by comparing deadlines with the clock.
    [[maybe_unused]] ssize_t n = ::read(timer_fd_.get(), &expirations, sizeof(expirations));
    timer_fd_armed_ = false;
    fireDueTimers();
  });
  wake_watch_ = watchFd(wake_fd_.get(), kFdReadable, [this](uint32_t) { drainPosted(); });
}

EventLoop::~EventLoop() {
  // Watches owned by the loop go first; user watches and timers must not outlive the loop.
  signal_watch_.reset();
  wake_watch_.reset();
  timer_watch_.reset();
}

MonoTime EventLoop::monotonicNow() const {
  return std::chrono::steady_clock::now();
}
WallTime EventLoop::wallNow() const {
  return std::chrono::system_clock::now();
}

TimerPtr EventLoop::createTimer(Callback on_fire) {
  return timers_.create(std::move(on_fire));
}

uint64_t EventLoop::addToEpoll(int fd, uint32_t interest, WatchImpl* watch) {
  epoll_event ev{};
  ev.events = ((interest & kFdReadable) ? EPOLLIN | EPOLLRDHUP : 0u) |
              ((interest & kFdWritable) ? EPOLLOUT : 0u);
  const uint64_t id = next_watch_id_++;
  ev.data.u64 = id;
  if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    return 0;
  }
  watches_.emplace(id, watch);
  return id;
}

FdWatchPtr EventLoop::watchFd(int fd, uint32_t interest, FdCallback on_ready) {
  auto watch = std::make_unique<WatchImpl>(*this, fd, std::move(on_ready));
  const uint64_t id = addToEpoll(fd, interest, watch.get());
  if (id == 0) {
    return nullptr;  // an invalid or duplicate fd: the caller checks.
  }
  watch->setId(id);
  return watch;
}

void EventLoop::post(Callback work) {
  bool was_empty = false;
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    was_empty = posted_.empty();
    posted_.push_back(std::move(work));
  }
  if (was_empty) {
    const uint64_t one = 1;
    // EAGAIN means the counter is already non-zero: the loop will wake anyway.
    [[maybe_unused]] ssize_t n = ::write(wake_fd_.get(), &one, sizeof(one));
  }
}

void EventLoop::drainPosted() {
  uint64_t count = 0;
  [[maybe_unused]] ssize_t n = ::read(wake_fd_.get(), &count, sizeof(count));
  std::vector<Callback> batch;
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    batch.swap(posted_);
  }
  for (auto& work : batch) {
    work();
  }
}

Status EventLoop::watchSignals(const sigset_t& signals, SignalCallback on_signal) {
  if (::pthread_sigmask(SIG_BLOCK, &signals, nullptr) != 0) {
    return Error::fromErrno("pthread_sigmask");
  }
  UniqueFd fd(::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!fd) {
    return Error::fromErrno("signalfd");
  }
  signal_watch_.reset();
  signal_fd_ = std::move(fd);
  signal_watch_ =
      watchFd(signal_fd_.get(), kFdReadable, [this, on_signal = std::move(on_signal)](uint32_t) {
        signalfd_siginfo info{};
        while (::read(signal_fd_.get(), &info, sizeof(info)) ==
               static_cast<ssize_t>(sizeof(info))) {
          on_signal(info);
        }
      });
  if (!signal_watch_) {
    return Error::fromErrno("epoll_ctl(signalfd)");
  }
  return Status::okStatus();
}

void EventLoop::fireDueTimers() {
  timers_.fireDue(monotonicNow());
}

void EventLoop::armTimerFd() {
  const std::optional<MonoTime> next = timers_.earliest();
  if (!next) {
    if (timer_fd_armed_) {
      itimerspec off{};
      ::timerfd_settime(timer_fd_.get(), 0, &off, nullptr);
      timer_fd_armed_ = false;
    }
    return;
  }
  const MonoTime earliest = *next;
  if (timer_fd_armed_ && earliest == armed_deadline_) {
    return;
  }
  const auto since_epoch = earliest.time_since_epoch();
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  itimerspec spec{};
  spec.it_value.tv_sec = secs.count();
  spec.it_value.tv_nsec = std::chrono::duration_cast<Duration>(since_epoch - secs).count();
  if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) {
    spec.it_value.tv_nsec = 1;  // all zero would disarm it.
  }
  ::timerfd_settime(timer_fd_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
  armed_deadline_ = earliest;
  timer_fd_armed_ = true;
}

void EventLoop::dispatch(int timeout_ms) {
  armTimerFd();
  std::array<epoll_event, 64> events{};
  const int n = ::epoll_wait(epoll_fd_.get(), events.data(), events.size(), timeout_ms);
  if (n < 0) {
    return;  // EINTR: nothing to do, the caller loops.
  }
  for (int i = 0; i < n; ++i) {
    // Look the watch up by id for each event: an earlier callback may have destroyed it.
    auto it = watches_.find(events[i].data.u64);
    if (it == watches_.end()) {
      continue;
    }
    const uint32_t raw = events[i].events;
    uint32_t ready = 0;
    ready |= (raw & EPOLLIN) ? kFdReadable : 0u;
    ready |= (raw & EPOLLOUT) ? kFdWritable : 0u;
    ready |= (raw & (EPOLLHUP | EPOLLRDHUP)) ? kFdHangup : 0u;
    ready |= (raw & EPOLLERR) ? kFdError : 0u;
    it->second->ready(ready);
  }
}

void EventLoop::run() {
  exit_requested_ = false;
  while (!exit_requested_) {
    dispatch(-1);
  }
}

void EventLoop::runOnce(Duration max_wait) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(max_wait).count();
  dispatch(static_cast<int>(ms));
}

}  // namespace vigie
