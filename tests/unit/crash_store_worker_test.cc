// The crash store's worker thread: what it has been given runs before it ends, so that the
// owner of what the jobs refer to can stop it before going (a retention pass during shutdown).
#include "agent/crash/store_worker.h"

#include <doctest/doctest.h>

#include <atomic>

#include "tests/fakes/fake_dispatcher.h"

namespace vigie::crash {
namespace {

TEST_CASE("crash store worker: stop runs the jobs already submitted, then ends the thread") {
  testing::FakeDispatcher dispatcher;
  std::atomic<int> ran{0};
  StoreWorker worker(dispatcher);
  for (int i = 0; i < 100; ++i) {
    worker.submit([&]() -> StoreWorker::Continuation {
      ran.fetch_add(1);
      return nullptr;
    });
  }
  worker.stop();
  CHECK(ran.load() == 100);
  worker.stop();  // idempotent; the destructor stops again
  CHECK(ran.load() == 100);
}

}  // namespace
}  // namespace vigie::crash
