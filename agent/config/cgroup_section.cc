// The top-level `cgroups:` section and a workload's `resources:` (docs/cgroups.md).
#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "agent/config/section_parsers.h"

namespace vigie::config_detail {
namespace {

constexpr int64_t kMinCpuWeight = 1;
constexpr int64_t kMaxCpuWeight = 10'000;

bool isPathChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == '@' || c == ':';
}

// A cgroup path below the hierarchy: components of safe characters, no "." or "..", no empty
// component (so no trailing "/"). The root itself ("/") is not a parent for units.
std::optional<std::string> checkParent(const std::string& parent) {
  if (parent.empty() || parent == "/") {
    return "must name a cgroup below the root";
  }
  std::string_view rest = parent;
  if (rest.front() == '/') {
    rest.remove_prefix(1);
  }
  while (true) {
    const size_t slash = rest.find('/');
    const std::string_view component = rest.substr(0, slash);
    if (component.empty() || component == "." || component == "..") {
      return "empty, \".\" and \"..\" path components are not allowed";
    }
    for (char c : component) {
      if (!isPathChar(c)) {
        return fmt::format("invalid character '{}' (use letters, digits and \"_.-@:\")", c);
      }
    }
    if (slash == std::string_view::npos) {
      return std::nullopt;
    }
    rest.remove_prefix(slash + 1);
  }
}

std::optional<uint64_t> readPositiveSize(const Field& field, Diagnostics& diag) {
  std::optional<uint64_t> value = readSize(field, diag);
  if (value && *value == 0) {
    reportAt(field, "must be greater than 0", diag);
    return std::nullopt;
  }
  return value;
}

}  // namespace

}  // namespace vigie::config_detail

namespace vigie {

Status checkCgroupParent(const std::string& parent) {
  if (auto problem = config_detail::checkParent(parent)) {
    return Error{"invalid cgroup parent \"" + parent + "\": " + *problem, EINVAL};
  }
  return Status::okStatus();
}

}  // namespace vigie

namespace vigie::config_detail {

void readCgroups(const MapEntry& entry, CgroupsSpec& cgroups, Diagnostics& diag) {
  auto view = openSection(entry, "", {"mode", "parent"}, diag);
  if (!view) {
    return;
  }
  const std::string path = entry.field("").path;
  if (const MapEntry* mode = view->find("mode")) {
    const Field field = mode->field(path);
    if (auto text = readString(field, diag)) {
      if (*text == "auto") {
        cgroups.mode = CgroupsSpec::Mode::kAuto;
      } else if (*text == "on") {
        cgroups.mode = CgroupsSpec::Mode::kOn;
      } else if (*text == "off") {
        cgroups.mode = CgroupsSpec::Mode::kOff;
      } else {
        reportAt(field, fmt::format("unknown mode \"{}\" (expected auto, on or off)", *text), diag);
      }
    }
  }
  if (const MapEntry* parent = view->find("parent")) {
    const Field field = parent->field(path);
    if (auto text = readString(field, diag)) {
      if (Status valid = checkCgroupParent(*text); !valid) {
        reportAt(field, valid.error().message, diag);
      } else {
        cgroups.parent = std::move(*text);
      }
    }
  }
}

void readResources(const MapEntry& entry, const std::string& parent, ResourcesSpec& resources,
                   Diagnostics& diag) {
  auto view = openSection(
      entry, parent, {"memory_max", "memory_high", "cpu_weight", "cpu_max", "pids_max", "optional"},
      diag);
  if (!view) {
    return;
  }
  const std::string path = entry.field(parent).path;
  if (const MapEntry* max = view->find("memory_max")) {
    resources.memory_max = readPositiveSize(max->field(path), diag);
  }
  if (const MapEntry* high = view->find("memory_high")) {
    const Field field = high->field(path);
    resources.memory_high = readPositiveSize(field, diag);
    if (resources.memory_high && resources.memory_max &&
        *resources.memory_high > *resources.memory_max) {
      reportAt(field, "must not be greater than memory_max", diag);
    }
  }
  if (const MapEntry* weight = view->find("cpu_weight")) {
    if (auto value = readInteger(weight->field(path), kMinCpuWeight, kMaxCpuWeight, diag)) {
      resources.cpu_weight = static_cast<uint32_t>(*value);
    }
  }
  if (const MapEntry* cpu_max = view->find("cpu_max")) {
    const Field field = cpu_max->field(path);
    if (auto text = readString(field, diag)) {
      auto parsed = parseCpuMax(*text);
      if (parsed) {
        resources.cpu_max = *parsed;
      } else {
        reportAt(field, parsed.error().message, diag);
      }
    }
  }
  if (const MapEntry* pids = view->find("pids_max")) {
    if (auto value = readInteger(pids->field(path), 1, std::numeric_limits<int32_t>::max(), diag)) {
      resources.pids_max = static_cast<uint64_t>(*value);
    }
  }
  if (const MapEntry* optional = view->find("optional")) {
    assignIfPresent(resources.optional, readBool(optional->field(path), diag));
  }
}

}  // namespace vigie::config_detail
