// The reader of a workload's stdout or stderr pipe. The fake dispatcher never reports an fd
// ready, so whatever lands in the tail here came from drain().
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "agent/logs/output_reader.h"
#include "agent/logs/ring_buffer.h"
#include "tests/fakes/fake_dispatcher.h"

namespace vigie {
namespace {

TEST_CASE("output reader: drain takes what the pipe holds, before the loop reports it") {
  testing::FakeDispatcher dispatcher;
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  RingBuffer tail(1024);
  std::string forwarded;
  OutputReader reader(dispatcher, std::move(read_end), tail,
                      [&](std::string_view data) { forwarded.append(data); });

  const std::string last = "crasher: about to exit 3\n";
  REQUIRE(::write(write_end.get(), last.data(), last.size()) == static_cast<ssize_t>(last.size()));
  CHECK(tail.contents().empty());  // nothing reported it yet
  reader.drain();
  CHECK(tail.contents() == last);
  CHECK(forwarded == last);
  CHECK(reader.open());  // a writer is still there

  write_end.reset();
  reader.drain();  // EOF: every writer is gone
  CHECK_FALSE(reader.open());
  reader.drain();  // closed: nothing to do
  CHECK(tail.contents() == last);
}

}  // namespace
}  // namespace vigie
