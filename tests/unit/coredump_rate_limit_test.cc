// vigie-coredump: the per-fingerprint rate limit, and forwarding patterns.
#include <doctest/doctest.h>

#include "agent/coredump/forwarder.h"
#include "agent/coredump/rate_limit.h"
#include "tests/fakes/temp_dir.h"

namespace vigie::coredump {
namespace {

using namespace std::chrono_literals;

TEST_CASE("coredump rate limit: burst within interval, then room again") {
  std::vector<int64_t> times;
  CHECK(admitCore(times, 1000, 2, 60s));
  CHECK(admitCore(times, 1010, 2, 60s));
  CHECK_FALSE(admitCore(times, 1020, 2, 60s));
  CHECK(times.size() == 2);
  CHECK(admitCore(times, 1061, 2, 60s));  // 1000 has left the window
  CHECK(times == std::vector<int64_t>{1010, 1061});
  std::vector<int64_t> none;
  for (int i = 0; i < 100; ++i) {
    CHECK(admitCore(none, 1000, 0, 60s));  // burst 0: no limit
  }
  CHECK(parseRateTimes(formatRateTimes({5, 7})) == std::vector<int64_t>{5, 7});
  CHECK(parseRateTimes("12 x 13\n") == std::vector<int64_t>{12, 13});
}

TEST_CASE("coredump rate limit: on disk, per fingerprint") {
  testing::TempDir dir;
  const std::string state = dir.path() + "/.ratelimit";
  CHECK(*admitCoreOnDisk(state, "aaaa", 1000, 1, 60s));
  CHECK_FALSE(*admitCoreOnDisk(state, "aaaa", 1001, 1, 60s));
  CHECK(*admitCoreOnDisk(state, "bbbb", 1001, 1, 60s));
  CHECK(*admitCoreOnDisk(state, "aaaa", 1100, 1, 60s));
}

TEST_CASE("coredump forward: the kernel's specifiers, split at spaces") {
  const std::map<char, std::string> values = {{'P', "42"}, {'u', "0"}, {'h', "node-1"}};
  CHECK(expandPipePattern("|/usr/lib/systemd/systemd-coredump %P %u %h", values) ==
        std::vector<std::string>{"/usr/lib/systemd/systemd-coredump", "42", "0", "node-1"});
  CHECK(expandPipePattern("|/bin/x  a%Pb %% %z end%", values) ==
        std::vector<std::string>{"/bin/x", "a42b", "%", "", "end%"});
}

}  // namespace
}  // namespace vigie::coredump
