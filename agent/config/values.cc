// Parsers and printers for the small value languages of the config: durations, sizes, signals.
// They are shared with the command line, so they report errors as values, never by throwing.

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "agent/config/rlimit_table.h"
#include "vigie/config.h"

namespace vigie {
namespace {

constexpr std::string_view kDurationSyntax = "expected a number followed by ns, us, ms, s, m or h";
constexpr std::string_view kSizeSyntax =
    "expected a whole number of bytes, optionally followed by B, KiB, MiB, GiB, kB, MB or GB";
constexpr int kMaxSignal = 64;

using Int128 = unsigned __int128;  // wide enough for any digits * unit product we accept.

constexpr int64_t kNanosPerMicro = 1'000;
constexpr int64_t kNanosPerMilli = 1'000'000;
constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int64_t kNanosPerMinute = 60 * kNanosPerSecond;
constexpr int64_t kNanosPerHour = 60 * kNanosPerMinute;

struct DurationUnit {
  std::string_view name;
  int64_t nanos;
};

// Ordered from the largest unit: compound durations ("1m30s") must list units in this order.
constexpr std::array<DurationUnit, 6> kDurationUnits{{
    {"h", kNanosPerHour},
    {"m", kNanosPerMinute},
    {"s", kNanosPerSecond},
    {"ms", kNanosPerMilli},
    {"us", kNanosPerMicro},
    {"ns", 1},
}};

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

Error durationError(std::string_view text, std::string_view reason) {
  return Error{fmt::format("invalid duration \"{}\": {}", text, reason)};
}

Error sizeError(std::string_view text, std::string_view reason) {
  return Error{fmt::format("invalid size \"{}\": {}", text, reason)};
}

// Reads a run of digits as an exact integer; fails when it does not fit in int64.
bool readInteger(std::string_view digits, Int128& out) {
  out = 0;
  for (char c : digits) {
    out = out * 10 + static_cast<unsigned>(c - '0');
    if (out > static_cast<Int128>(std::numeric_limits<int64_t>::max())) {
      return false;
    }
  }
  return true;
}

std::string_view takeWhile(std::string_view& rest, bool (*pred)(char)) {
  size_t n = 0;
  while (n < rest.size() && pred(rest[n])) {
    ++n;
  }
  std::string_view taken = rest.substr(0, n);
  rest.remove_prefix(n);
  return taken;
}

// Appends value/unit as a decimal with the trailing zeros of its fraction dropped ("1.5", "250").
void appendDecimal(std::string& out, uint64_t value, uint64_t unit, int unit_digits) {
  out += std::to_string(value / unit);
  uint64_t fraction = value % unit;
  if (fraction == 0) {
    return;
  }
  std::string digits = fmt::format("{:0{}}", fraction, unit_digits);
  digits.erase(digits.find_last_not_of('0') + 1);
  out += '.';
  out += digits;
}

struct SignalNameEntry {
  int number;
  std::string_view name;  // without the SIG prefix.
};

constexpr std::array<SignalNameEntry, 31> kSignalNames{{
    {SIGHUP, "HUP"},   {SIGINT, "INT"},       {SIGQUIT, "QUIT"}, {SIGILL, "ILL"},
    {SIGTRAP, "TRAP"}, {SIGABRT, "ABRT"},     {SIGBUS, "BUS"},   {SIGFPE, "FPE"},
    {SIGKILL, "KILL"}, {SIGUSR1, "USR1"},     {SIGSEGV, "SEGV"}, {SIGUSR2, "USR2"},
    {SIGPIPE, "PIPE"}, {SIGALRM, "ALRM"},     {SIGTERM, "TERM"}, {SIGSTKFLT, "STKFLT"},
    {SIGCHLD, "CHLD"}, {SIGCONT, "CONT"},     {SIGSTOP, "STOP"}, {SIGTSTP, "TSTP"},
    {SIGTTIN, "TTIN"}, {SIGTTOU, "TTOU"},     {SIGURG, "URG"},   {SIGXCPU, "XCPU"},
    {SIGXFSZ, "XFSZ"}, {SIGVTALRM, "VTALRM"}, {SIGPROF, "PROF"}, {SIGWINCH, "WINCH"},
    {SIGIO, "IO"},     {SIGPWR, "PWR"},       {SIGSYS, "SYS"},
}};

Error signalError(std::string_view text) {
  return Error{fmt::format(
      "invalid signal \"{}\": expected a name such as SIGTERM, TERM or SIGRTMIN+1, or a number "
      "between 1 and {}",
      text, kMaxSignal)};
}

}  // namespace

Result<Duration> parseDuration(const std::string& text) {
  if (text == "0") {
    return Duration::zero();
  }
  if (!text.empty() && text[0] == '-') {
    return durationError(text, "must not be negative");
  }
  std::string_view rest = text;
  if (rest.empty()) {
    return durationError(text, kDurationSyntax);
  }
  Int128 total = 0;
  size_t previous_unit = 0;
  bool first = true;
  while (!rest.empty()) {
    std::string_view whole = takeWhile(rest, isDigit);
    std::string_view fraction;
    if (!rest.empty() && rest[0] == '.') {
      rest.remove_prefix(1);
      fraction = takeWhile(rest, isDigit);
      if (fraction.empty()) {
        return durationError(text, kDurationSyntax);
      }
    }
    if (whole.empty()) {
      return durationError(text, kDurationSyntax);
    }
    std::string_view unit_name = takeWhile(rest, [](char c) { return !isDigit(c) && c != '.'; });
    size_t unit = 0;
    while (unit < kDurationUnits.size() && kDurationUnits[unit].name != unit_name) {
      ++unit;
    }
    if (unit == kDurationUnits.size()) {
      return durationError(text, kDurationSyntax);
    }
    if (!first && unit <= previous_unit) {
      return durationError(text,
                           "units must go from the largest to the smallest, each at most once");
    }
    first = false;
    previous_unit = unit;

    Int128 whole_value = 0;
    if (!readInteger(whole, whole_value)) {
      return durationError(text, "too large");
    }
    const auto unit_nanos = static_cast<Int128>(kDurationUnits[unit].nanos);
    total += whole_value * unit_nanos;
    // Trailing zeros add no precision; dropping them keeps the arithmetic below in range.
    fraction = fraction.substr(0, fraction.find_last_not_of('0') + 1);
    if (!fraction.empty()) {
      Int128 fraction_value = 0;
      if (fraction.size() > 18 || !readInteger(fraction, fraction_value)) {
        return durationError(text, "more precise than a nanosecond");
      }
      Int128 scale = 1;
      for (size_t i = 0; i < fraction.size(); ++i) {
        scale *= 10;
      }
      if ((fraction_value * unit_nanos) % scale != 0) {
        return durationError(text, "more precise than a nanosecond");
      }
      total += fraction_value * unit_nanos / scale;
    }
    if (total > static_cast<Int128>(std::numeric_limits<int64_t>::max())) {
      return durationError(text, "too large");
    }
  }
  return Duration(static_cast<int64_t>(total));
}

Result<uint64_t> parseSize(const std::string& text) {
  struct SizeUnit {
    std::string_view name;
    uint64_t bytes;
  };
  static constexpr std::array<SizeUnit, 9> kUnits{{
      {"", 1},
      {"B", 1},
      {"KiB", uint64_t{1} << 10},
      {"MiB", uint64_t{1} << 20},
      {"GiB", uint64_t{1} << 30},
      {"kB", 1'000},
      {"KB", 1'000},
      {"MB", 1'000'000},
      {"GB", 1'000'000'000},
  }};
  if (!text.empty() && text[0] == '-') {
    return sizeError(text, "must not be negative");
  }
  std::string_view rest = text;
  std::string_view digits = takeWhile(rest, isDigit);
  if (digits.empty()) {
    return sizeError(text, kSizeSyntax);
  }
  uint64_t multiplier = 0;
  for (const SizeUnit& unit : kUnits) {
    if (unit.name == rest) {
      multiplier = unit.bytes;
    }
  }
  if (multiplier == 0) {
    return sizeError(text, kSizeSyntax);
  }
  uint64_t count = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), count);
  uint64_t bytes = 0;
  if (ec != std::errc() || end != digits.data() + digits.size() ||
      __builtin_mul_overflow(count, multiplier, &bytes)) {
    return sizeError(text, "too large");
  }
  return bytes;
}

Result<int> parseSignal(const std::string& text) {
  std::string_view name = text;
  if (name.starts_with("SIG")) {
    name.remove_prefix(3);
  }
  // "SIG<n>" is accepted too: it is what signalName() prints for signals without a name.
  if (!name.empty() && isDigit(name[0])) {
    int number = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), number);
    if (ec != std::errc() || end != name.data() + name.size() || number < 1 ||
        number > kMaxSignal) {
      return signalError(text);
    }
    return number;
  }
  for (const SignalNameEntry& entry : kSignalNames) {
    if (entry.name == name) {
      return entry.number;
    }
  }
  if (name.starts_with("RTMIN")) {
    name.remove_prefix(5);
    int offset = 0;
    if (!name.empty()) {
      if (name[0] != '+' || name.size() < 2 || !isDigit(name[1])) {
        return signalError(text);
      }
      auto [end, ec] = std::from_chars(name.data() + 1, name.data() + name.size(), offset);
      if (ec != std::errc() || end != name.data() + name.size()) {
        return signalError(text);
      }
    }
    // SIGRTMIN is a libc call, not a constant: glibc keeps the first real-time signals.
    if (offset > SIGRTMAX - SIGRTMIN) {
      return signalError(text);
    }
    return SIGRTMIN + offset;
  }
  return signalError(text);
}

std::string signalName(int signal) {
  for (const SignalNameEntry& entry : kSignalNames) {
    if (entry.number == signal) {
      return fmt::format("SIG{}", entry.name);
    }
  }
  if (signal == SIGRTMIN) {
    return "SIGRTMIN";
  }
  if (signal > SIGRTMIN && signal <= SIGRTMAX) {
    return fmt::format("SIGRTMIN+{}", signal - SIGRTMIN);
  }
  return fmt::format("SIG{}", signal);
}

std::string formatDuration(Duration d) {
  const int64_t count = d.count();
  if (count == 0) {
    return "0s";
  }
  std::string out;
  // Negating in unsigned arithmetic keeps the most negative value representable.
  uint64_t nanos = static_cast<uint64_t>(count);
  if (count < 0) {
    out = "-";
    nanos = 0 - nanos;
  }
  if (nanos < kNanosPerMicro) {
    out += fmt::format("{}ns", nanos);
  } else if (nanos < kNanosPerMilli) {
    appendDecimal(out, nanos, kNanosPerMicro, 3);
    out += "us";
  } else if (nanos < kNanosPerSecond) {
    appendDecimal(out, nanos, kNanosPerMilli, 6);
    out += "ms";
  } else {
    // Like Go's time.Duration, but zero parts are left out: "1h", not "1h0m0s".
    const uint64_t hours = nanos / kNanosPerHour;
    const uint64_t minutes = nanos % kNanosPerHour / kNanosPerMinute;
    const uint64_t seconds = nanos % kNanosPerMinute;
    if (hours > 0) {
      out += fmt::format("{}h", hours);
    }
    if (minutes > 0) {
      out += fmt::format("{}m", minutes);
    }
    if (seconds > 0) {
      appendDecimal(out, seconds, kNanosPerSecond, 9);
      out += "s";
    }
  }
  return out;
}

Result<uint32_t> parseUmask(const std::string& text) {
  constexpr uint32_t kMaxUmask = 0777;
  uint32_t value = 0;
  bool ok = !text.empty();
  for (char c : text) {
    if (c < '0' || c > '7') {
      ok = false;
      break;
    }
    value = value * 8 + static_cast<uint32_t>(c - '0');
    if (value > kMaxUmask) {
      ok = false;
      break;
    }
  }
  if (!ok) {
    return Error{fmt::format(
        "invalid umask \"{}\": expected an octal number from 0000 to 0777, such as 0027", text)};
  }
  return value;
}

std::string rlimitName(int resource) {
  for (const config_detail::RlimitInfo& info : config_detail::kRlimits) {
    if (info.resource == resource) {
      return std::string(info.name);
    }
  }
  return fmt::format("rlimit {}", resource);
}

std::string ConfigError::format() const {
  std::string out = location.file;
  if (location.line > 0) {
    out += fmt::format(":{}", location.line);
    if (location.column > 0) {
      out += fmt::format(":{}", location.column);
    }
  }
  if (!out.empty()) {
    out += ": ";
  }
  out += message;
  return out;
}

}  // namespace vigie
