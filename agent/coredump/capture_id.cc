#include "agent/coredump/capture_id.h"

#include <sys/random.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace vigie::coredump {
namespace {

bool allDigits(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string makeCaptureId(std::time_t crash_time, pid_t pid, uint32_t random) {
  std::tm utc{};
  ::gmtime_r(&crash_time, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &utc);
  char id[80];
  std::snprintf(id, sizeof(id), "%s-%d-%08x", stamp, static_cast<int>(pid), random);
  return id;
}

bool isCaptureId(std::string_view name) {
  // 8 date digits, 'T', 6 time digits, 'Z', '-', pid, '-', 8 hex digits.
  if (name.size() < 16 + 1 + 1 + 1 + 8 || name[8] != 'T' || name[15] != 'Z' || name[16] != '-') {
    return false;
  }
  if (!allDigits(name.substr(0, 8)) || !allDigits(name.substr(9, 6))) {
    return false;
  }
  const std::string_view rest = name.substr(17);
  const size_t dash = rest.find('-');
  if (dash == std::string_view::npos || !allDigits(rest.substr(0, dash))) {
    return false;
  }
  const std::string_view tag = rest.substr(dash + 1);
  if (tag.size() != 8) {
    return false;
  }
  for (const char c : tag) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

uint32_t randomTag() {
  uint32_t value = 0;
  if (::getrandom(&value, sizeof(value), GRND_NONBLOCK) == sizeof(value)) {
    return value;
  }
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return static_cast<uint32_t>(now) ^ (static_cast<uint32_t>(::getpid()) << 16);
}

}  // namespace vigie::coredump
