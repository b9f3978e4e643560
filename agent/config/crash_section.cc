// The `crash:` section of the main config file: vigie's core_pattern helper, its budgets and
// the incident store's retention (see docs/crash-capture.md).

#include <fmt/format.h>
#include <sys/un.h>

#include <cstdint>
#include <optional>
#include <string>

#include "agent/config/section_parsers.h"

namespace vigie::config_detail {
namespace {

constexpr size_t kMaxSocketPath = sizeof(sockaddr_un{}.sun_path) - 1;

void readPath(const MapView& view, std::string_view key, const std::string& path,
              std::string& target, Diagnostics& diag) {
  const MapEntry* entry = view.find(key);
  if (!entry) {
    return;
  }
  const Field field = entry->field(path);
  std::optional<std::string> value = readString(field, diag);
  if (!value) {
    return;
  }
  if (value->empty() || (*value)[0] != '/') {
    reportAt(field, fmt::format("\"{}\" is not an absolute path", *value), diag);
    return;
  }
  if (value->find(' ') != std::string::npos) {
    // The kernel splits a pipe pattern's arguments at spaces.
    reportAt(field, "a path with a space cannot go into core_pattern", diag);
    return;
  }
  target = *value;
}

void readPatterns(const MapView& view, std::string_view key, const std::string& path,
                  std::vector<std::string>& target, Diagnostics& diag) {
  const MapEntry* entry = view.find(key);
  if (!entry) {
    return;
  }
  const Field field = entry->field(path);
  if (!expectList(field, diag)) {
    return;
  }
  std::vector<std::string> patterns;
  size_t index = 0;
  for (auto it = field.node.begin(); it != field.node.end(); ++it, ++index) {
    if (auto pattern = readString(field.element(*it, index), diag)) {
      patterns.push_back(*pattern);
    }
  }
  target = std::move(patterns);
}

void readRetention(const MapEntry& entry, CrashRetentionSpec& retention, Diagnostics& diag) {
  auto view = openSection(entry, "crash",
                          {"max_use", "keep_free", "max_age", "cores_per_fingerprint"}, diag);
  if (!view) {
    return;
  }
  const std::string path = entry.field("crash").path;
  if (const MapEntry* max_use = view->find("max_use")) {
    // Bytes ("4GiB") or a share of the store's filesystem ("10%").
    const Field field = max_use->field(path);
    const std::optional<std::string> text =
        field.node.IsScalar() ? std::optional(field.node.Scalar()) : std::nullopt;
    if (text && !text->empty() && text->back() == '%') {
      const std::string digits = text->substr(0, text->size() - 1);
      const bool numeric = !digits.empty() && digits.size() <= 3 &&
                           digits.find_first_not_of("0123456789") == std::string::npos;
      const int percent = numeric ? std::stoi(digits) : 0;
      if (percent < 1 || percent > 100) {
        reportAt(field, fmt::format("\"{}\" is not a percentage from 1% to 100%", *text), diag);
      } else {
        retention.max_use_percent = static_cast<uint32_t>(percent);
      }
    } else if (auto bytes = readSize(field, diag)) {
      retention.max_use = *bytes;
      retention.max_use_percent.reset();
    }
  }
  if (const MapEntry* keep_free = view->find("keep_free")) {
    assignIfPresent(retention.keep_free, readSize(keep_free->field(path), diag));
  }
  if (const MapEntry* max_age = view->find("max_age")) {
    assignIfPresent(retention.max_age, readDuration(max_age->field(path), diag));
  }
  if (const MapEntry* per = view->find("cores_per_fingerprint")) {
    if (auto value = readInteger(per->field(path), 0, 1000, diag)) {
      retention.cores_per_fingerprint = static_cast<uint32_t>(*value);
    }
  }
}

}  // namespace

void readCrash(const MapEntry& entry, CrashSpec& crash, Diagnostics& diag) {
  auto view = openSection(
      entry, "",
      {"core_pattern", "helper", "helper_config", "intake_socket", "spool_dir", "forward_previous",
       "reinstall_on_drift", "drift_check_interval", "core_size_max", "capture_timeout",
       "report_timeout", "redact_env", "redact_args", "rate_limit", "retention"},
      diag);
  if (!view) {
    return;
  }
  const std::string path = entry.field("").path;
  if (const MapEntry* mode = view->find("core_pattern")) {
    const Field field = mode->field(path);
    if (auto text = readString(field, diag)) {
      if (*text == "install") {
        crash.core_pattern = CrashSpec::CorePattern::kInstall;
      } else if (*text == "leave") {
        crash.core_pattern = CrashSpec::CorePattern::kLeave;
      } else {
        reportAt(field, fmt::format("\"{}\" is not install or leave", *text), diag);
      }
    }
  }
  readPath(*view, "helper", path, crash.helper, diag);
  readPath(*view, "helper_config", path, crash.helper_config, diag);
  readPath(*view, "intake_socket", path, crash.intake_socket, diag);
  if (const MapEntry* socket = view->find("intake_socket");
      socket && crash.intake_socket.size() > kMaxSocketPath) {
    reportAt(socket->field(path),
             fmt::format("path is {} bytes long; a unix socket path has at most {}",
                         crash.intake_socket.size(), kMaxSocketPath),
             diag);
  }
  readPath(*view, "spool_dir", path, crash.spool_dir, diag);
  if (const MapEntry* forward = view->find("forward_previous")) {
    assignIfPresent(crash.forward_previous, readBool(forward->field(path), diag));
  }
  if (const MapEntry* reinstall = view->find("reinstall_on_drift")) {
    assignIfPresent(crash.reinstall_on_drift, readBool(reinstall->field(path), diag));
  }
  for (auto [key, target] :
       {std::pair<std::string_view, Duration*>{"drift_check_interval", &crash.drift_check_interval},
        {"capture_timeout", &crash.capture_timeout},
        {"report_timeout", &crash.report_timeout}}) {
    if (const MapEntry* found = view->find(key)) {
      const Field field = found->field(path);
      if (auto value = readDuration(field, diag)) {
        if (*value <= Duration::zero()) {
          reportAt(field, "must be more than 0", diag);
        } else {
          *target = *value;
        }
      }
    }
  }
  if (const MapEntry* size = view->find("core_size_max")) {
    assignIfPresent(crash.core_size_max, readSize(size->field(path), diag));
  }
  readPatterns(*view, "redact_env", path, crash.redact_env, diag);
  readPatterns(*view, "redact_args", path, crash.redact_args, diag);
  if (const MapEntry* rate = view->find("rate_limit")) {
    if (auto rate_view = openSection(*rate, "crash", {"burst", "interval"}, diag)) {
      const std::string rate_path = rate->field("crash").path;
      if (const MapEntry* burst = rate_view->find("burst")) {
        if (auto value = readInteger(burst->field(rate_path), 0, 1'000'000, diag)) {
          crash.rate_burst = static_cast<uint32_t>(*value);
        }
      }
      if (const MapEntry* interval = rate_view->find("interval")) {
        assignIfPresent(crash.rate_interval, readDuration(interval->field(rate_path), diag));
      }
    }
  }
  if (const MapEntry* retention = view->find("retention")) {
    readRetention(*retention, crash.retention, diag);
  }
}

}  // namespace vigie::config_detail
