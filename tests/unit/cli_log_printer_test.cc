// vigiectl logs: the workload's bytes untouched, markers only on a TTY, lost bytes on stderr.
#include <doctest/doctest.h>

#include "agent/cli/log_printer.h"

namespace vigie::cli {
namespace {

v1::ReadOutputResponse chunk(uint64_t instance, v1::OutputStream stream, const std::string& data) {
  v1::ReadOutputResponse out;
  out.set_instance_id(instance);
  out.set_stream(stream);
  out.set_data(data);
  return out;
}

TEST_CASE("cli logs: off a TTY, stdout carries the workload's bytes and nothing else") {
  LogPrinter printer({.decorate = false, .color = false, .follow = true, .both_streams = true});
  auto first = printer.onChunk(chunk(1, v1::OUTPUT_STREAM_STDOUT, "no newline"));
  CHECK(first.out == "no newline");
  CHECK(printer.endMarker(1, "exit code 1") == "");
  auto second = printer.onChunk(chunk(2, v1::OUTPUT_STREAM_STDERR, "next\n"));
  CHECK(second.out == "next\n");
  CHECK(second.err.empty());
}

TEST_CASE("cli logs: following on a TTY marks where instances begin and end") {
  LogPrinter printer({.decorate = true, .color = false, .follow = true, .both_streams = true});
  CHECK(printer.onChunk(chunk(1, v1::OUTPUT_STREAM_STDOUT, "tick")).out ==
        "-- instance 1 --\ntick");
  CHECK(printer.onChunk(chunk(1, v1::OUTPUT_STREAM_STDERR, "err\n")).out == "err\n");
  CHECK(printer.onChunk(chunk(1, v1::OUTPUT_STREAM_STDOUT, "half")).out == "half");
  // The marker starts on a line of its own.
  CHECK(printer.endMarker(1, "signal SIGSEGV (core dumped)") ==
        "\n-- instance 1 ended: signal SIGSEGV (core dumped) --\n");
  CHECK(printer.onChunk(chunk(2, v1::OUTPUT_STREAM_STDOUT, "again\n")).out ==
        "-- instance 2 --\nagain\n");
  CHECK(printer.endMarker(2, "") == "-- instance 2 ended --\n");
}

TEST_CASE("cli logs: both streams on a TTY without follow are labelled") {
  LogPrinter printer({.decorate = true, .color = true, .follow = false, .both_streams = true});
  CHECK(printer.onChunk(chunk(4, v1::OUTPUT_STREAM_STDOUT, "out\n")).out ==
        "\033[2m-- stdout of instance 4 --\033[0m\nout\n");
  CHECK(printer.onChunk(chunk(4, v1::OUTPUT_STREAM_STDERR, "err\n")).out ==
        "\033[2m-- stderr of instance 4 --\033[0m\nerr\n");
  LogPrinter one_stream({.decorate = true, .color = false, .follow = false, .both_streams = false});
  CHECK(one_stream.onChunk(chunk(4, v1::OUTPUT_STREAM_STDERR, "err\n")).out == "err\n");
}

TEST_CASE("cli logs: lost bytes are reported on stderr, never mixed into stdout") {
  LogPrinter printer({.decorate = false, .color = false, .follow = true, .both_streams = false});
  v1::ReadOutputResponse lossy = chunk(3, v1::OUTPUT_STREAM_STDOUT, "after\n");
  lossy.set_dropped_bytes(2048);
  const auto output = printer.onChunk(lossy);
  CHECK(output.out == "after\n");
  CHECK(output.err ==
        "vigiectl: 2.0 KiB of instance 3's output lost here (overwritten in the "
        "agent's tail, or this reader fell behind)\n");
}

}  // namespace
}  // namespace vigie::cli
