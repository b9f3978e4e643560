// The real loop on real fds: epoll, timerfd and eventfd. Short waits, condition-based.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "agent/event/event_loop.h"

namespace vigie {
namespace {

std::unique_ptr<EventLoop> makeLoop() {
  auto loop = EventLoop::create();
  REQUIRE(loop.ok());
  return std::move(*loop);
}

template <class Pred>
bool runUntil(EventLoop& loop, Pred done, Duration limit = 5s) {
  const MonoTime deadline = loop.monotonicNow() + limit;
  while (!done()) {
    if (loop.monotonicNow() > deadline) {
      return false;
    }
    loop.runOnce(100ms);
  }
  return true;
}

TEST_CASE("event loop: timers fire in deadline order, each once") {
  auto loop = makeLoop();
  std::vector<int> fired;
  const MonoTime now = loop->monotonicNow();
  auto t3 = loop->createTimer([&] { fired.push_back(3); });
  auto t1 = loop->createTimer([&] { fired.push_back(1); });
  auto t2 = loop->createTimer([&] { fired.push_back(2); });
  t3->enableAt(now + 30ms);
  t1->enableAt(now + 10ms);
  t2->enableAt(now + 20ms);
  CHECK(runUntil(*loop, [&] { return fired.size() == 3; }));
  CHECK(fired == std::vector<int>{1, 2, 3});
  CHECK_FALSE(t1->enabled());
  loop->runOnce(50ms);
  CHECK(fired.size() == 3);
}

TEST_CASE("event loop: a disabled or destroyed timer never fires, re-arming moves it") {
  auto loop = makeLoop();
  int fired = 0;
  const MonoTime now = loop->monotonicNow();
  auto disabled = loop->createTimer([&] { fired += 100; });
  disabled->enableAt(now + 5ms);
  disabled->disable();
  {
    auto destroyed = loop->createTimer([&] { fired += 10; });
    destroyed->enableAt(now + 5ms);
  }
  auto moved = loop->createTimer([&] { fired += 1; });
  moved->enableAt(now + 1h);
  moved->enableAt(now + 10ms);
  CHECK(runUntil(*loop, [&] { return fired > 0; }));
  loop->runOnce(30ms);
  CHECK(fired == 1);
}

TEST_CASE("event loop: a timer in the past fires on the next turn") {
  auto loop = makeLoop();
  bool fired = false;
  auto timer = loop->createTimer([&] { fired = true; });
  timer->enableAt(loop->monotonicNow() - 1s);
  CHECK(runUntil(
      *loop, [&] { return fired; }, 1s));
}

TEST_CASE("event loop: post() from other threads runs on the loop, in order") {
  auto loop = makeLoop();
  std::vector<int> seen;
  const auto loop_thread = std::this_thread::get_id();
  bool on_loop_thread = true;
  std::thread poster([&] {
    for (int i = 0; i < 100; ++i) {
      loop->post([&, i] {
        on_loop_thread = on_loop_thread && std::this_thread::get_id() == loop_thread;
        seen.push_back(i);
      });
    }
  });
  poster.join();
  CHECK(runUntil(*loop, [&] { return seen.size() == 100; }));
  CHECK(on_loop_thread);
  for (int i = 0; i < 100; ++i) {
    CHECK(seen[static_cast<size_t>(i)] == i);
  }
}

TEST_CASE("event loop: fd readiness, and a watch may destroy itself in its callback") {
  auto loop = makeLoop();
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  int calls = 0;
  FdWatchPtr watch;
  watch = loop->watchFd(read_end.get(), kFdReadable, [&](uint32_t events) {
    watch.reset();
    // What the callback captured is still there after its watch is gone (ASan checks it).
    ++calls;
    CHECK((events & kFdReadable) != 0);
  });
  REQUIRE(watch != nullptr);
  REQUIRE(::write(write_end.get(), "x", 1) == 1);
  CHECK(runUntil(*loop, [&] { return calls > 0; }));
  loop->runOnce(20ms);
  CHECK(calls == 1);  // unregistered: level-triggered readiness does not call it again
}

TEST_CASE("event loop: a timer may destroy itself in its callback") {
  auto loop = makeLoop();
  int calls = 0;
  TimerPtr timer = loop->createTimer([&] {
    timer.reset();
    ++calls;  // a capture, used after the timer is gone (ASan checks it)
  });
  timer->enableAt(loop->monotonicNow());
  CHECK(runUntil(*loop, [&] { return calls > 0; }));
  CHECK(timer == nullptr);
  loop->runOnce(20ms);
  CHECK(calls == 1);
}

TEST_CASE("event loop: run() returns after exit()") {
  auto loop = makeLoop();
  auto timer = loop->createTimer([&] { loop->exit(); });
  timer->enableAt(loop->monotonicNow() + 10ms);
  loop->run();
  CHECK_FALSE(timer->enabled());
}

}  // namespace
}  // namespace vigie
