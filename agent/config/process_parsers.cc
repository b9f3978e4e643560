#include "agent/config/process_parsers.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/config/rlimit_table.h"
#include "agent/os/credentials.h"

namespace vigie::config_detail {
namespace {

bool isEnvName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
    return false;
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

// A user or group name: a non-empty string.
std::optional<std::string> readAccountName(const Field& field, Diagnostics& diag) {
  std::optional<std::string> name = readString(field, diag);
  if (name && name->empty()) {
    reportAt(field, "must not be empty", diag);
    return std::nullopt;
  }
  return name;
}

const RlimitInfo* findRlimit(std::string_view name) {
  for (const RlimitInfo& info : kRlimits) {
    if (info.name == name) {
      return &info;
    }
  }
  return nullptr;
}

// One side of a limit, as written: a value and the text to quote it by.
struct LimitValue {
  uint64_t value;
  std::string text;
};

std::optional<LimitValue> readLimitValue(const Field& field, const RlimitInfo& info,
                                         Diagnostics& diag) {
  const std::string_view expected = info.bytes ? "expected a size such as 64MiB or unlimited"
                                               : "expected a whole number or unlimited";
  if (!field.node.IsScalar()) {
    reportAt(field, expected, diag);
    return std::nullopt;
  }
  const std::string& text = field.node.Scalar();
  if (text == "unlimited") {
    return LimitValue{RLIM_INFINITY, text};
  }
  if (info.bytes) {
    if (Result<uint64_t> size = parseSize(text)) {
      return LimitValue{*size, text};
    }
  } else {
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!text.empty() && ec == std::errc() && end == text.data() + text.size()) {
      return LimitValue{value, text};
    }
  }
  reportAt(field, fmt::format("{}, got \"{}\"", expected, text), diag);
  return std::nullopt;
}

// One entry of `rlimits`: "nofile: 1024" or "nofile: {soft: 1024, hard: 4096}".
std::optional<RlimitSpec> readRlimit(const MapEntry& entry, const RlimitInfo& info,
                                     const std::string& parent, Diagnostics& diag) {
  const Field field = entry.field(parent);
  RlimitSpec limit;
  limit.resource = info.resource;
  limit.location = diag.locate(entry.key_mark);
  if (!field.node.IsMap()) {
    auto value = readLimitValue(field, info, diag);
    if (!value) {
      return std::nullopt;
    }
    limit.soft = value->value;
    limit.hard = value->value;
    return limit;
  }
  const MapView view(field.node, diag);
  view.reportUnknownKeys({"soft", "hard"}, fmt::format("in {}", field.path), diag);
  const MapEntry* soft_entry = view.find("soft");
  const MapEntry* hard_entry = view.find("hard");
  for (std::string_view key : {"soft", "hard"}) {
    if (view.find(key) == nullptr) {
      reportAt(field, fmt::format("missing required key \"{}\"", key), diag);
    }
  }
  std::optional<LimitValue> soft;
  std::optional<LimitValue> hard;
  if (soft_entry != nullptr) {
    soft = readLimitValue(soft_entry->field(field.path), info, diag);
  }
  if (hard_entry != nullptr) {
    hard = readLimitValue(hard_entry->field(field.path), info, diag);
  }
  if (!soft || !hard) {
    return std::nullopt;
  }
  if (soft->value > hard->value) {
    reportAt(soft_entry->field(field.path),
             fmt::format("{} is greater than hard ({})", soft->text, hard->text), diag);
    return std::nullopt;
  }
  limit.soft = soft->value;
  limit.hard = hard->value;
  return limit;
}

}  // namespace

bool readArgv(const Field& field, std::vector<std::string>& out, Diagnostics& diag) {
  if (!expectList(field, diag)) {
    return false;
  }
  if (field.node.size() == 0) {
    reportAt(field, "must not be empty (expected the program and its arguments)", diag);
    return false;
  }
  std::vector<std::string> argv;
  bool ok = true;
  size_t i = 0;
  for (auto it = field.node.begin(); it != field.node.end(); ++it, ++i) {
    const Field arg = field.element(*it, i);
    std::optional<std::string> value = readString(arg, diag);
    if (!value) {
      ok = false;
      continue;
    }
    if (i == 0 && value->empty()) {
      reportAt(arg, "the program must not be empty", diag);
      ok = false;
    }
    argv.push_back(std::move(*value));
  }
  if (ok) {
    out = std::move(argv);
  }
  return ok;
}

bool readEnv(const Field& field, std::vector<std::pair<std::string, std::string>>& env,
             Diagnostics& diag) {
  // "env:" with every variable commented out is empty, not a mistake.
  if (isAbsent(field)) {
    return true;
  }
  if (!expectMap(field, diag)) {
    return false;
  }
  bool ok = true;
  const MapView view(field.node, diag);
  for (const MapEntry& entry : view.entries()) {
    if (!isEnvName(entry.key)) {
      diag.report(entry.key_mark,
                  fmt::format("{}: invalid variable name \"{}\" (expected letters, digits and "
                              "\"_\", not starting with a digit)",
                              field.path, entry.key));
      ok = false;
      continue;
    }
    if (auto value = readString(entry.field(field.path), diag)) {
      env.emplace_back(entry.key, std::move(*value));
    } else {
      ok = false;
    }
  }
  return ok;
}

void readUser(const Field& field, std::string& user, Diagnostics& diag) {
  std::optional<std::string> name = readAccountName(field, diag);
  if (!name) {
    return;
  }
  if (Status exists = checkUserExists(*name); !exists) {
    reportAt(field, exists.error().message, diag);
    return;
  }
  user = std::move(*name);
}

void readGroup(const Field& field, std::string& group, Diagnostics& diag) {
  std::optional<std::string> name = readAccountName(field, diag);
  if (!name) {
    return;
  }
  if (Result<gid_t> gid = resolveGroup(*name); !gid) {
    reportAt(field, gid.error().message, diag);
    return;
  }
  group = std::move(*name);
}

void readUmask(const Field& field, uint32_t& umask, Diagnostics& diag) {
  // The scalar's text as written: YAML 1.2 has no leading-zero octal, so 0027 stays "0027".
  if (!field.node.IsScalar()) {
    reportAt(field, "expected an octal umask such as 0027", diag);
    return;
  }
  Result<uint32_t> value = parseUmask(field.node.Scalar());
  if (!value) {
    reportAt(field, value.error().message, diag);
    return;
  }
  umask = *value;
}

void readRlimits(const Field& field, std::vector<RlimitSpec>& rlimits, Diagnostics& diag) {
  // "rlimits:" with every limit commented out sets none.
  if (isAbsent(field) || !expectMap(field, diag)) {
    return;
  }
  const MapView view(field.node, diag);
  for (const MapEntry& entry : view.entries()) {
    const RlimitInfo* info = findRlimit(entry.key);
    if (info == nullptr) {
      std::string message = fmt::format("unknown limit \"{}\" in {}", entry.key, field.path);
      if (auto suggestion = closestMatch(entry.key, kRlimitNames)) {
        message += fmt::format(" (did you mean \"{}\"?)", *suggestion);
      } else {
        message += fmt::format(" (expected one of {})", fmt::join(kRlimitNames, ", "));
      }
      diag.report(entry.key_mark, std::move(message));
      continue;
    }
    if (auto limit = readRlimit(entry, *info, field.path, diag)) {
      rlimits.push_back(std::move(*limit));
    }
  }
}

}  // namespace vigie::config_detail
