#include "agent/config/section_parsers.h"

#include <fmt/format.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace vigie::config_detail {

std::optional<MapView> openSection(const MapEntry& entry, std::string_view parent_path,
                                   std::initializer_list<std::string_view> keys,
                                   Diagnostics& diag) {
  const Field field = entry.field(parent_path);
  if (isAbsent(field) || !expectMap(field, diag)) {
    return std::nullopt;
  }
  MapView view(field.node, diag);
  view.reportUnknownKeys(keys, fmt::format("in {}", field.path), diag);
  return view;
}

namespace {

constexpr uint64_t kMinTail = uint64_t{1} << 10;
constexpr uint64_t kMaxTail = uint64_t{64} << 20;
constexpr uint64_t kMinFileSize = uint64_t{4} << 10;
constexpr int64_t kMinFiles = 1;
constexpr int64_t kMaxFiles = 100;

void readBackoff(const MapEntry& entry, const std::string& parent, BackoffSpec& backoff,
                 Diagnostics& diag) {
  auto view = openSection(entry, parent, {"initial", "max", "reset_after"}, diag);
  if (!view) {
    return;
  }
  const std::string path = entry.field(parent).path;
  const MapEntry* initial = view->find("initial");
  const MapEntry* max = view->find("max");
  const MapEntry* reset_after = view->find("reset_after");
  bool ok = true;
  if (initial != nullptr) {
    auto value = readDuration(initial->field(path), diag);
    ok = ok && value.has_value();
    assignIfPresent(backoff.initial, value);
  }
  if (max != nullptr) {
    auto value = readDuration(max->field(path), diag);
    ok = ok && value.has_value();
    assignIfPresent(backoff.max, value);
  }
  if (reset_after != nullptr) {
    assignIfPresent(backoff.reset_after, readDuration(reset_after->field(path), diag));
  }
  if (!ok || backoff.max == Duration::zero() || backoff.initial <= backoff.max) {
    return;
  }
  // Point at whichever of the two the user wrote; the other is a default.
  if (initial != nullptr) {
    reportAt(initial->field(path),
             fmt::format("{} is greater than max ({})", formatDuration(backoff.initial),
                         formatDuration(backoff.max)),
             diag);
  } else if (max != nullptr) {
    reportAt(max->field(path),
             fmt::format("{} is less than initial ({})", formatDuration(backoff.max),
                         formatDuration(backoff.initial)),
             diag);
  }
}

void readLimit(const MapEntry& entry, const std::string& parent, StartLimitSpec& limit,
               Diagnostics& diag) {
  auto view = openSection(entry, parent, {"burst", "interval"}, diag);
  if (!view) {
    return;
  }
  const std::string path = entry.field(parent).path;
  bool burst_ok = true;
  if (const MapEntry* burst = view->find("burst")) {
    auto value = readInteger(burst->field(path), 0, std::numeric_limits<uint32_t>::max(), diag);
    burst_ok = value.has_value();
    assignIfPresent(limit.burst, value);
  }
  if (const MapEntry* interval = view->find("interval")) {
    const Field field = interval->field(path);
    auto value = readDuration(field, diag);
    if (value && *value == Duration::zero() && burst_ok && limit.burst > 0) {
      reportAt(field, "must be greater than 0 when burst is not 0", diag);
    }
    assignIfPresent(limit.interval, value);
  }
}

// output.file: false (no files), true (the defaults) or {max_size, max_files}.
void readOutputFile(const MapEntry& entry, const std::string& parent, OutputFileSpec& file,
                    Diagnostics& diag) {
  const Field field = entry.field(parent);
  if (isAbsent(field)) {
    return;  // "file:" keeps the defaults, like the other sections.
  }
  if (field.node.IsScalar()) {
    if (auto enabled = boolFromText(field.node.Scalar())) {
      file.enabled = *enabled;
    } else {
      reportAt(field,
               fmt::format("expected true, false or a map with max_size and max_files, got \"{}\"",
                           field.node.Scalar()),
               diag);
    }
    return;
  }
  if (!field.node.IsMap()) {
    reportAt(field, "expected true, false or a map with max_size and max_files", diag);
    return;
  }
  auto view = openSection(entry, parent, {"max_size", "max_files"}, diag);
  if (!view) {
    return;
  }
  file.enabled = true;
  if (const MapEntry* max_size = view->find("max_size")) {
    const Field size_field = max_size->field(field.path);
    auto value = readSize(size_field, diag);
    if (value && *value < kMinFileSize) {
      reportAt(size_field,
               fmt::format("{} is too small (expected at least 4KiB)", size_field.node.Scalar()),
               diag);
    } else {
      assignIfPresent(file.max_size, value);
    }
  }
  if (const MapEntry* max_files = view->find("max_files")) {
    assignIfPresent(file.max_files,
                    readInteger(max_files->field(field.path), kMinFiles, kMaxFiles, diag));
  }
}

}  // namespace

void readRestart(const MapEntry& entry, const std::string& parent, RestartSpec& restart,
                 Diagnostics& diag) {
  auto view = openSection(entry, parent, {"policy", "backoff", "limit"}, diag);
  if (!view) {
    return;
  }
  const std::string path = entry.field(parent).path;
  if (const MapEntry* policy = view->find("policy")) {
    const Field field = policy->field(path);
    if (auto value = readString(field, diag)) {
      if (*value == "always") {
        restart.policy = RestartPolicyKind::kAlways;
      } else if (*value == "on-failure") {
        restart.policy = RestartPolicyKind::kOnFailure;
      } else if (*value == "never") {
        restart.policy = RestartPolicyKind::kNever;
      } else {
        reportAt(
            field,
            fmt::format("unknown policy \"{}\" (expected always, on-failure or never)", *value),
            diag);
      }
    }
  }
  if (const MapEntry* backoff = view->find("backoff")) {
    readBackoff(*backoff, path, restart.backoff, diag);
  }
  if (const MapEntry* limit = view->find("limit")) {
    readLimit(*limit, path, restart.limit, diag);
  }
}

void readStop(const MapEntry& entry, const std::string& parent, StopSpec& stop, Diagnostics& diag) {
  auto view = openSection(entry, parent, {"signal", "timeout"}, diag);
  if (!view) {
    return;
  }
  const std::string path = entry.field(parent).path;
  if (const MapEntry* signal = view->find("signal")) {
    assignIfPresent(stop.signal, readSignal(signal->field(path), diag));
  }
  if (const MapEntry* timeout = view->find("timeout")) {
    assignIfPresent(stop.timeout, readDuration(timeout->field(path), diag));
  }
}

void readOutput(const MapEntry& entry, const std::string& parent, OutputSpec& output,
                Diagnostics& diag) {
  auto view = openSection(entry, parent, {"tail", "file", "journal"}, diag);
  if (!view) {
    return;
  }
  const std::string path = entry.field(parent).path;
  if (const MapEntry* tail = view->find("tail")) {
    const Field field = tail->field(path);
    auto value = readSize(field, diag);
    if (value && (*value < kMinTail || *value > kMaxTail)) {
      reportAt(
          field,
          fmt::format("{} is out of range (expected between 1KiB and 64MiB)", field.node.Scalar()),
          diag);
    } else {
      assignIfPresent(output.tail, value);
    }
  }
  if (const MapEntry* file = view->find("file")) {
    readOutputFile(*file, path, output.file, diag);
  }
  if (const MapEntry* journal = view->find("journal")) {
    assignIfPresent(output.journal, readBool(journal->field(path), diag));
  }
}

void readStorage(const MapEntry& entry, StorageSpec& storage, Diagnostics& diag) {
  auto view = openSection(entry, "", {"max_use", "keep_free"}, diag);
  if (!view) {
    return;
  }
  const std::string path = entry.field("").path;
  if (const MapEntry* max_use = view->find("max_use")) {
    assignIfPresent(storage.max_use, readSize(max_use->field(path), diag));
  }
  if (const MapEntry* keep_free = view->find("keep_free")) {
    assignIfPresent(storage.keep_free, readSize(keep_free->field(path), diag));
  }
}

}  // namespace vigie::config_detail
