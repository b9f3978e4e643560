#include "agent/cli/crash_words.h"

#include <time.h>

#include <array>
#include <cctype>

#include "agent/cli/human.h"
#include "agent/crash/incident_status.h"
#include "vigie/config.h"

namespace vigie::cli {

std::string crashStatusName(v1::IncidentStatus status) {
  return std::string(crash::incidentStatusName(status));
}

Style crashStatusStyle(v1::IncidentStatus status) {
  switch (status) {
    case v1::INCIDENT_STATUS_COMPLETE:
      return Style::kGood;
    case v1::INCIDENT_STATUS_PENDING:
    case v1::INCIDENT_STATUS_NO_CORE:
      return Style::kWarn;
    case v1::INCIDENT_STATUS_CAPTURE_FAILED:
    case v1::INCIDENT_STATUS_TIMED_OUT:
      return Style::kBad;
    default:
      return Style::kPlain;
  }
}

std::string shortFingerprint(const std::string& fingerprint) {
  return fingerprint.empty() ? "-" : fingerprint.substr(0, 8);
}

std::string crashUnitText(const v1::CrashSummary& crash) {
  if (crash.unit().empty()) {
    return "(node)";
  }
  return crash.descendant() ? crash.unit() + " (child)" : crash.unit();
}

std::string crashSignalText(const v1::CrashSummary& crash) {
  if (!crash.signal_name().empty()) {
    return crash.signal_name();
  }
  if (crash.signal() != 0) {
    return "signal " + std::to_string(crash.signal());
  }
  if (crash.reason() == "exited") {
    return "exit " + std::to_string(crash.exit_code());
  }
  return "-";
}

std::string coreStateName(v1::CoreState state) {
  switch (state) {
    case v1::CORE_STATE_STORED:
      return "stored";
    case v1::CORE_STATE_DISABLED:
      return "disabled";
    case v1::CORE_STATE_TRUNCATED:
      return "too-big";
    case v1::CORE_STATE_RATE_LIMITED:
      return "rate-limited";
    case v1::CORE_STATE_EMPTY:
      return "empty";
    case v1::CORE_STATE_FAILED:
      return "failed";
    case v1::CORE_STATE_TIMED_OUT:
      return "timed-out";
    default:
      return "-";
  }
}

std::string crashCoreText(const v1::CrashSummary& crash) {
  if (crash.core_available()) {
    return humanBytes(crash.core_stored_bytes());
  }
  if (crash.core_removed()) {
    return "removed";
  }
  return coreStateName(crash.core_state());
}

std::string crashEventWords(const v1::CrashSummary& crash, bool completed) {
  std::string what = crashSignalText(crash);
  if (!crash.crashing_function().empty()) {
    what += " in " + crash.crashing_function();
  }
  if (!crash.reason().empty()) {
    what += " (" + crash.reason() + ")";
  }
  if (crash.node_level()) {
    what += ", " + (crash.exe().empty() ? std::string("a process") : crash.exe()) + " (no unit's)";
  }
  if (!completed) {
    const std::string next =
        crash.status() == v1::INCIDENT_STATUS_PENDING ? ", capturing the core" : "";
    return "crash " + crash.id() + " opened: " + what + next;
  }
  std::string core =
      crash.core_available() ? ", core " + humanBytes(crash.core_stored_bytes()) : ", no core";
  return "crash " + crash.id() + " " + crashStatusName(crash.status()) + ": " + what + core +
         " (vigiectl crash show " + crash.id() + ")";
}

namespace {

// "3d": days, which the config's duration syntax does not have.
bool parseDays(const std::string& text, Duration& out) {
  if (text.size() < 2 || text.back() != 'd') {
    return false;
  }
  int64_t days = 0;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(text[i])) == 0 || days > 100000) {
      return false;
    }
    days = days * 10 + (text[i] - '0');
  }
  out = std::chrono::hours(24 * days);
  return true;
}

}  // namespace

Result<WallTime> parseSince(const std::string& text, WallTime now) {
  Duration back{};
  if (parseDays(text, back)) {
    return now - std::chrono::duration_cast<WallTime::duration>(back);
  }
  if (auto duration = parseDuration(text); duration) {
    return now - std::chrono::duration_cast<WallTime::duration>(*duration);
  }
  std::string body = text;
  const bool utc = !body.empty() && (body.back() == 'Z' || body.back() == 'z');
  if (utc) {
    body.pop_back();
  }
  static constexpr std::array<const char*, 5> kFormats = {
      "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"};
  for (const char* format : kFormats) {
    struct tm parts {};
    const char* end = ::strptime(body.c_str(), format, &parts);
    if (end == nullptr || *end != '\0') {
      continue;
    }
    parts.tm_isdst = -1;
    const time_t seconds = utc ? ::timegm(&parts) : ::mktime(&parts);
    // The system clock counts nanoseconds in 64 bits: it ends in 2262.
    constexpr time_t kLastSecond = 9'000'000'000;  // 2255
    if (seconds == static_cast<time_t>(-1) || seconds > kLastSecond) {
      return Error{"\"" + text + "\" is out of range"};
    }
    return std::chrono::system_clock::from_time_t(seconds);
  }
  return Error{"\"" + text +
               "\" is neither a length of time (30m, 2h, 3d) nor a time (2024-05-01, "
               "\"2024-05-01 12:00\", 2024-05-01T12:00:00Z)"};
}

}  // namespace vigie::cli
