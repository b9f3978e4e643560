#include "agent/cli/human.h"

#include <fmt/core.h>
#include <time.h>

#include <array>

namespace vigie::cli {
namespace {

using std::chrono::days;
using std::chrono::duration_cast;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// Tenths, truncated rather than rounded, so that 9.99s never reads "10.0s".
std::string secondsWithTenth(Duration d) {
  const auto tenths = duration_cast<milliseconds>(d).count() / 100;
  return fmt::format("{}.{}s", tenths / 10, tenths % 10);
}

}  // namespace

std::string humanDuration(Duration d) {
  if (d < Duration::zero()) {
    return "-" + humanDuration(-d);
  }
  if (d < 1s) {
    return fmt::format("{}ms", duration_cast<milliseconds>(d).count());
  }
  if (d < 10s) {
    return secondsWithTenth(d);
  }
  if (d < 1min) {
    return fmt::format("{}s", duration_cast<seconds>(d).count());
  }
  if (d < 1h) {
    const auto whole = duration_cast<seconds>(d);
    return fmt::format("{}m{}s", whole.count() / 60, whole.count() % 60);
  }
  if (d < days(1)) {
    const auto whole = duration_cast<minutes>(d);
    return fmt::format("{}h{}m", whole.count() / 60, whole.count() % 60);
  }
  const auto whole = duration_cast<hours>(d);
  return fmt::format("{}d{}h", whole.count() / 24, whole.count() % 24);
}

std::string humanAgo(WallTime then, WallTime now) {
  const Duration d = now - then;
  if (d < 1s) {
    // Clocks of two hosts disagree a little; a time slightly in the future is "just now" too.
    return "just now";
  }
  if (d < 1min) {
    return fmt::format("{}s ago", duration_cast<seconds>(d).count());
  }
  if (d < 1h) {
    return fmt::format("{}m ago", duration_cast<minutes>(d).count());
  }
  if (d < days(1)) {
    return fmt::format("{}h ago", duration_cast<hours>(d).count());
  }
  return fmt::format("{}d ago", duration_cast<days>(d).count());
}

std::string humanUntil(WallTime then, WallTime now) {
  if (then <= now) {
    return "now";
  }
  return "in " + humanDuration(then - now);
}

std::string humanBytes(uint64_t bytes) {
  static constexpr std::array<const char*, 6> kUnits = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) {
    return fmt::format("{} B", bytes);
  }
  auto value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < kUnits.size()) {
    value /= 1024;
    ++unit;
  }
  // Three significant digits at most: "1.5 KiB", "15.2 MiB", "152 GiB".
  if (value < 100) {
    return fmt::format("{:.1f} {}", value, kUnits[unit]);
  }
  return fmt::format("{:.0f} {}", value, kUnits[unit]);
}

std::string localTime(WallTime time) {
  const time_t seconds_since_epoch = std::chrono::system_clock::to_time_t(time);
  struct tm parts {};
  if (::localtime_r(&seconds_since_epoch, &parts) == nullptr) {
    return "?";
  }
  std::array<char, 32> text{};
  const size_t length = ::strftime(text.data(), text.size(), "%Y-%m-%d %H:%M:%S", &parts);
  return std::string(text.data(), length);
}

std::string localTimeMillis(WallTime time) {
  const auto since_second = time - std::chrono::floor<seconds>(time);
  return fmt::format("{}.{:03}", localTime(time),
                     duration_cast<milliseconds>(since_second).count());
}

WallTime fromProto(const google::protobuf::Timestamp& time) {
  return WallTime{} + duration_cast<WallTime::duration>(seconds(time.seconds()) +
                                                        std::chrono::nanoseconds(time.nanos()));
}

Duration fromProto(const google::protobuf::Duration& duration) {
  return seconds(duration.seconds()) + std::chrono::nanoseconds(duration.nanos());
}

}  // namespace vigie::cli
