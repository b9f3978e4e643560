#include <doctest/doctest.h>

#include <string>

#include "agent/logs/ring_buffer.h"

namespace vigie {
namespace {

TEST_CASE("ring buffer keeps the last capacity bytes, in order") {
  RingBuffer ring(8);
  ring.append("abc");
  CHECK(ring.contents() == "abc");
  ring.append("defgh");
  CHECK(ring.contents() == "abcdefgh");
  ring.append("ij");
  CHECK(ring.contents() == "cdefghij");
  ring.append("klmnopqrstuvwxyz");
  CHECK(ring.contents() == "stuvwxyz");
  CHECK(ring.size() == 8);
  CHECK(ring.totalBytes() == 26);
}

TEST_CASE("ring buffer never holds more than its capacity, whatever the write sizes") {
  RingBuffer ring(1000);
  std::string expected;
  for (int i = 0; i < 5000; ++i) {
    const std::string chunk(static_cast<size_t>(i % 37 + 1), static_cast<char>('a' + i % 26));
    ring.append(chunk);
    expected += chunk;
    REQUIRE(ring.size() <= 1000);
  }
  CHECK(ring.contents() == expected.substr(expected.size() - 1000));
}

TEST_CASE("ring buffer memory grows only with what was written") {
  RingBuffer ring(64 * 1024);
  ring.append("hello\n");
  CHECK(ring.size() == 6);
  CHECK(ring.capacity() == 64 * 1024);
}

TEST_CASE("lastLines returns whole last lines") {
  RingBuffer ring(1024);
  ring.append("one\ntwo\nthree\nfour\n");
  CHECK(ring.lastLines(2) == "three\nfour\n");
  CHECK(ring.lastLines(10) == "one\ntwo\nthree\nfour\n");
  CHECK(ring.lastLines(0).empty());
  ring.append("partial");
  CHECK(ring.lastLines(1) == "partial");
  CHECK(ring.lastLines(2) == "four\npartial");
}

}  // namespace
}  // namespace vigie
