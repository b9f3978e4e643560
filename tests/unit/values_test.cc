// Value parsers shared by the config and the command line: durations, sizes, signals.

#include <doctest/doctest.h>

#include <sys/resource.h>

#include <csignal>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>

#include "vigie/config.h"

namespace vigie {
namespace {

Duration durationOf(const std::string& text) {
  Result<Duration> parsed = parseDuration(text);
  REQUIRE_MESSAGE(parsed.ok(), text);
  return *parsed;
}

std::string durationError(const std::string& text) {
  Result<Duration> parsed = parseDuration(text);
  REQUIRE_MESSAGE(!parsed.ok(), text);
  return parsed.error().message;
}

uint64_t sizeOf(const std::string& text) {
  Result<uint64_t> parsed = parseSize(text);
  REQUIRE_MESSAGE(parsed.ok(), text);
  return *parsed;
}

std::string sizeError(const std::string& text) {
  Result<uint64_t> parsed = parseSize(text);
  REQUIRE_MESSAGE(!parsed.ok(), text);
  return parsed.error().message;
}

int signalOf(const std::string& text) {
  Result<int> parsed = parseSignal(text);
  REQUIRE_MESSAGE(parsed.ok(), text);
  return *parsed;
}

TEST_CASE("parseDuration accepts every unit") {
  CHECK(durationOf("0") == Duration::zero());
  CHECK(durationOf("0s") == Duration::zero());
  CHECK(durationOf("7ns") == 7ns);
  CHECK(durationOf("100us") == 100us);
  CHECK(durationOf("250ms") == 250ms);
  CHECK(durationOf("10s") == 10s);
  CHECK(durationOf("2m") == 2min);
  CHECK(durationOf("3h") == 3h);
}

TEST_CASE("parseDuration accepts decimals that are whole nanoseconds") {
  CHECK(durationOf("1.5s") == 1500ms);
  CHECK(durationOf("0.25s") == 250ms);
  CHECK(durationOf("1.5m") == 90s);
  CHECK(durationOf("0.5h") == 30min);
  CHECK(durationOf("1.000000001s") == 1'000'000'001ns);
  CHECK(durationOf("2.500us") == 2500ns);
  CHECK(durationOf("1.0000000000000000000000s") == 1s);  // trailing zeros add no precision.
}

TEST_CASE("parseDuration accepts compound durations from the largest unit down") {
  CHECK(durationOf("1m30s") == 90s);
  CHECK(durationOf("1h0.5s") == 1h + 500ms);
  CHECK(durationOf("2h3m4s5ms6us7ns") == 2h + 3min + 4s + 5ms + 6us + 7ns);
  CHECK(durationError("30s1m") ==
        "invalid duration \"30s1m\": units must go from the largest to the smallest, each at "
        "most once");
  CHECK(durationError("1s1s") ==
        "invalid duration \"1s1s\": units must go from the largest to the smallest, each at "
        "most once");
}

TEST_CASE("parseDuration rejects malformed text with a clear message") {
  CHECK(durationError("10x") ==
        "invalid duration \"10x\": expected a number followed by ns, us, ms, s, m or h");
  CHECK(durationError("10") ==
        "invalid duration \"10\": expected a number followed by ns, us, ms, s, m or h");
  for (const char* bad : {"", "s", "ms10", ".5s", "1.s", "1..5s", "1.5", "10 s", " 10s", "10s ",
                          "+10s", "10S", "10sec", "1e3s", "0x10s", "00", "0.0", "1m30"}) {
    CAPTURE(bad);
    CHECK(!parseDuration(bad).ok());
  }
}

TEST_CASE("parseDuration rejects negative durations") {
  CHECK(durationError("-1s") == "invalid duration \"-1s\": must not be negative");
  CHECK(durationError("-0") == "invalid duration \"-0\": must not be negative");
}

TEST_CASE("parseDuration rejects values that do not fit") {
  CHECK(durationOf("9223372036854775807ns") == Duration::max());
  CHECK(durationError("9223372036854775808ns") ==
        "invalid duration \"9223372036854775808ns\": too large");
  CHECK(durationOf("2562047h") == 2562047h);
  CHECK(durationError("2562048h") == "invalid duration \"2562048h\": too large");
  CHECK(durationError("99999999999999999999999999s") ==
        "invalid duration \"99999999999999999999999999s\": too large");
  CHECK(durationError("2562047h47m16.854775808s") ==
        "invalid duration \"2562047h47m16.854775808s\": too large");
}

TEST_CASE("parseDuration rejects precision below a nanosecond") {
  CHECK(durationError("1.5ns") == "invalid duration \"1.5ns\": more precise than a nanosecond");
  CHECK(durationError("0.0000000001s") ==
        "invalid duration \"0.0000000001s\": more precise than a nanosecond");
  CHECK(!parseDuration("0.1234567890123456789s").ok());
}

TEST_CASE("formatDuration prints the shortest exact form") {
  CHECK(formatDuration(Duration::zero()) == "0s");
  CHECK(formatDuration(1500ms) == "1.5s");
  CHECK(formatDuration(250ms) == "250ms");
  CHECK(formatDuration(90s) == "1m30s");
  CHECK(formatDuration(100us) == "100us");
  CHECK(formatDuration(1ns) == "1ns");
  CHECK(formatDuration(1500us) == "1.5ms");
  CHECK(formatDuration(1001us) == "1.001ms");
  CHECK(formatDuration(1s) == "1s");
  CHECK(formatDuration(60s) == "1m");
  CHECK(formatDuration(1h) == "1h");
  CHECK(formatDuration(1h + 1s) == "1h1s");
  CHECK(formatDuration(1h + 30min) == "1h30m");
  CHECK(formatDuration(61500ms) == "1m1.5s");
  CHECK(formatDuration(1'000'000'001ns) == "1.000000001s");
  CHECK(formatDuration(-1500ms) == "-1.5s");
  CHECK(formatDuration(Duration::max()) == "2562047h47m16.854775807s");
  CHECK(formatDuration(Duration::min()) == "-2562047h47m16.854775808s");
}

TEST_CASE("formatDuration round-trips through parseDuration") {
  for (Duration d : std::initializer_list<Duration>{Duration::zero(),
                                                    1ns,
                                                    999ns,
                                                    1us,
                                                    1001ns,
                                                    100us,
                                                    999999ns,
                                                    1ms,
                                                    250ms,
                                                    1500ms,
                                                    1s,
                                                    59s,
                                                    60s,
                                                    90s,
                                                    61500ms,
                                                    3599999999999ns,
                                                    1h,
                                                    1h + 1s,
                                                    1h + 1ns,
                                                    25h + 30min,
                                                    100000h,
                                                    Duration::max()}) {
    CAPTURE(d.count());
    const std::string text = formatDuration(d);
    CAPTURE(text);
    CHECK(durationOf(text) == d);
  }
  for (const char* text : {"0s", "1.5s", "250ms", "1m30s", "100us", "7ns", "2h", "1h1m1.001s"}) {
    CHECK(formatDuration(durationOf(text)) == text);
  }
}

TEST_CASE("parseSize accepts bytes and binary or decimal units") {
  CHECK(sizeOf("0") == 0);
  CHECK(sizeOf("512") == 512);
  CHECK(sizeOf("512B") == 512);
  CHECK(sizeOf("64KiB") == 64 * 1024);
  CHECK(sizeOf("10MiB") == 10 * 1024 * 1024);
  CHECK(sizeOf("2GiB") == 2ull * 1024 * 1024 * 1024);
  CHECK(sizeOf("3kB") == 3000);
  CHECK(sizeOf("3KB") == 3000);
  CHECK(sizeOf("5MB") == 5'000'000);
  CHECK(sizeOf("7GB") == 7'000'000'000ull);
  CHECK(sizeOf("18446744073709551615") == std::numeric_limits<uint64_t>::max());
}

TEST_CASE("parseSize rejects malformed, negative and oversized values") {
  CHECK(sizeError("10X") ==
        "invalid size \"10X\": expected a whole number of bytes, optionally followed by B, KiB, "
        "MiB, GiB, kB, MB or GB");
  CHECK(sizeError("-1KiB") == "invalid size \"-1KiB\": must not be negative");
  CHECK(sizeError("18446744073709551616") == "invalid size \"18446744073709551616\": too large");
  CHECK(sizeError("17179869184GiB") == "invalid size \"17179869184GiB\": too large");
  for (const char* bad :
       {"", "KiB", "1.5KiB", "10 KiB", "10kib", "10Kib", "10TiB", "10b", "+1", "0x10", " 1"}) {
    CAPTURE(bad);
    CHECK(!parseSize(bad).ok());
  }
}

TEST_CASE("parseSignal accepts names with or without SIG, and numbers") {
  CHECK(signalOf("SIGTERM") == SIGTERM);
  CHECK(signalOf("TERM") == SIGTERM);
  CHECK(signalOf("15") == 15);
  CHECK(signalOf("SIGKILL") == SIGKILL);
  CHECK(signalOf("HUP") == SIGHUP);
  CHECK(signalOf("SIGSTKFLT") == SIGSTKFLT);
  CHECK(signalOf("SIGPWR") == SIGPWR);
  CHECK(signalOf("1") == 1);
  CHECK(signalOf("64") == 64);
  CHECK(signalOf("SIGRTMIN") == SIGRTMIN);
  CHECK(signalOf("RTMIN+0") == SIGRTMIN);
  CHECK(signalOf("SIGRTMIN+3") == SIGRTMIN + 3);
  CHECK(signalOf("RTMIN+3") == SIGRTMIN + 3);
  CHECK(signalOf(signalName(SIGRTMAX)) == SIGRTMAX);
  CHECK(signalOf("SIG32") == 32);
}

TEST_CASE("parseSignal rejects unknown names and out-of-range numbers") {
  const Result<int> bad = parseSignal("SIGFOO");
  REQUIRE(!bad.ok());
  CHECK(bad.error().message ==
        "invalid signal \"SIGFOO\": expected a name such as SIGTERM, TERM or SIGRTMIN+1, or a "
        "number between 1 and 64");
  for (const char* text : {"", "0", "65", "-9", "+9", "9x", "sigterm", "term", "SIG", "SIGSIGTERM",
                           "RTMIN+", "RTMIN-1", "RTMIN+99", "RTMIN+x", "99999999999"}) {
    CAPTURE(text);
    CHECK(!parseSignal(text).ok());
  }
}

TEST_CASE("signalName names standard and real-time signals") {
  CHECK(signalName(15) == "SIGTERM");
  CHECK(signalName(SIGKILL) == "SIGKILL");
  CHECK(signalName(SIGCHLD) == "SIGCHLD");
  CHECK(signalName(SIGSYS) == "SIGSYS");
  CHECK(signalName(SIGRTMIN) == "SIGRTMIN");
  CHECK(signalName(SIGRTMIN + 2) == "SIGRTMIN+2");
  CHECK(signalName(0) == "SIG0");
  CHECK(signalName(99) == "SIG99");
  for (int signal = 1; signal <= 64; ++signal) {
    CAPTURE(signal);
    CHECK(signalOf(signalName(signal)) == signal);
  }
}

std::string formatted(const std::string& file, int line, int column, const std::string& message) {
  ConfigError error;
  error.location = SourceLocation{file, line, column};
  error.message = message;
  return error.format();
}

TEST_CASE("ConfigError::format prints file, line and column when known") {
  CHECK(formatted("a.yaml", 3, 7, "bad") == "a.yaml:3:7: bad");
  CHECK(formatted("a.yaml", 3, 0, "bad") == "a.yaml:3: bad");
  CHECK(formatted("a.yaml", 0, 0, "No such file or directory") ==
        "a.yaml: No such file or directory");
  CHECK(formatted("", 0, 0, "bad") == "bad");
}

TEST_CASE("parseUmask reads octal digits up to 0777") {
  auto umaskOf = [](const std::string& text) {
    Result<uint32_t> parsed = parseUmask(text);
    REQUIRE_MESSAGE(parsed.ok(), text);
    return *parsed;
  };
  CHECK(umaskOf("0027") == 027);
  CHECK(umaskOf("027") == 027);
  CHECK(umaskOf("22") == 022);
  CHECK(umaskOf("0") == 0);
  CHECK(umaskOf("777") == 0777);
  CHECK(umaskOf("0000000777") == 0777);
  for (const char* bad : {"", "8", "0028", "1000", "0o22", "-22", "+22", " 22", "22 ", "0x1f",
                          "99999999999999999999999"}) {
    Result<uint32_t> parsed = parseUmask(bad);
    REQUIRE_MESSAGE(!parsed.ok(), bad);
    CHECK(parsed.error().message ==
          "invalid umask \"" + std::string(bad) +
              "\": expected an octal number from 0000 to 0777, such as 0027");
  }
}

TEST_CASE("rlimitName names resource limits as the config does") {
  CHECK(rlimitName(RLIMIT_NOFILE) == "nofile");
  CHECK(rlimitName(RLIMIT_AS) == "as");
  CHECK(rlimitName(RLIMIT_SIGPENDING) == "sigpending");
  CHECK(rlimitName(RLIMIT_STACK) == "stack");
  CHECK(rlimitName(999) == "rlimit 999");
}

}  // namespace
}  // namespace vigie
