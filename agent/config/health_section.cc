// A workload's health keys: `liveness:` (exec, http or tcp probe), `notify:` and `watchdog:`
// (docs/health.md).
#include <arpa/inet.h>
#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/process_parsers.h"
#include "agent/config/section_parsers.h"

namespace vigie::config_detail {
namespace {

constexpr int64_t kMinPort = 1;
constexpr int64_t kMaxPort = 65535;
constexpr int64_t kMinThreshold = 1;
constexpr int64_t kMaxThreshold = 1000;

// Probes run on the event loop, which must not block: no DNS lookups, only numeric addresses
// (and "localhost", which needs no resolver).
std::optional<std::string> readHost(const Field& field, Diagnostics& diag) {
  std::optional<std::string> host = readString(field, diag);
  if (!host) {
    return std::nullopt;
  }
  if (*host == "localhost") {
    return std::string("127.0.0.1");
  }
  in6_addr address{};
  if (::inet_pton(AF_INET, host->c_str(), &address) == 1 ||
      ::inet_pton(AF_INET6, host->c_str(), &address) == 1) {
    return host;
  }
  reportAt(field,
           fmt::format("\"{}\" is not an IP address (expected a numeric IPv4 or IPv6 address, or "
                       "localhost: probes do no DNS lookups)",
                       *host),
           diag);
  return std::nullopt;
}

// An HTTP/1.0 request target: it goes into the request line as is.
std::optional<std::string> readPath(const Field& field, Diagnostics& diag) {
  std::optional<std::string> path = readString(field, diag);
  if (!path) {
    return std::nullopt;
  }
  if (path->empty() || (*path)[0] != '/') {
    reportAt(field, fmt::format("\"{}\" must start with \"/\"", *path), diag);
    return std::nullopt;
  }
  for (char c : *path) {
    if (c <= ' ' || c > '~') {
      reportAt(field, "must not contain spaces or control characters", diag);
      return std::nullopt;
    }
  }
  return path;
}

std::optional<Duration> readPositiveDuration(const Field& field, Diagnostics& diag) {
  std::optional<Duration> value = readDuration(field, diag);
  if (value && *value <= Duration::zero()) {
    reportAt(field, "must be greater than 0", diag);
    return std::nullopt;
  }
  return value;
}

// http: {port, path, host} or tcp: {port, host}.
bool readTarget(const MapEntry& entry, const std::string& parent, bool http, ProbeSpec& probe,
                Diagnostics& diag) {
  const Field field = entry.field(parent);
  if (isAbsent(field)) {
    reportAt(field, "expected a map with at least a port", diag);
    return false;
  }
  auto view = http ? openSection(entry, parent, {"port", "path", "host"}, diag)
                   : openSection(entry, parent, {"port", "host"}, diag);
  if (!view) {
    return false;
  }
  bool ok = true;
  if (const MapEntry* port = view->find("port")) {
    if (auto value = readInteger(port->field(field.path), kMinPort, kMaxPort, diag)) {
      probe.port = static_cast<uint16_t>(*value);
    } else {
      ok = false;
    }
  } else {
    reportAt(field, "missing required key \"port\"", diag);
    ok = false;
  }
  if (const MapEntry* host = view->find("host")) {
    if (auto value = readHost(host->field(field.path), diag)) {
      probe.host = std::move(*value);
    } else {
      ok = false;
    }
  }
  if (const MapEntry* path = view->find("path")) {
    if (auto value = readPath(path->field(field.path), diag)) {
      probe.path = std::move(*value);
    } else {
      ok = false;
    }
  }
  return ok;
}

}  // namespace

void readLiveness(const MapEntry& entry, const std::string& parent,
                  std::optional<ProbeSpec>& liveness, Diagnostics& diag) {
  const Field field = entry.field(parent);
  if (isAbsent(field)) {
    reportAt(field, "expected a map with one of exec, http or tcp", diag);
    return;
  }
  auto view = openSection(
      entry, parent,
      {"exec", "http", "tcp", "period", "timeout", "failure_threshold", "initial_delay"}, diag);
  if (!view) {
    return;
  }
  ProbeSpec probe;
  bool ok = true;
  const MapEntry* kind_entry = nullptr;
  for (const MapEntry& candidate : view->entries()) {
    if (candidate.key != "exec" && candidate.key != "http" && candidate.key != "tcp") {
      continue;
    }
    if (kind_entry != nullptr) {
      diag.report(candidate.key_mark,
                  fmt::format("{}: only one of exec, http and tcp may be given (\"{}\" is "
                              "already)",
                              field.path, kind_entry->key));
      ok = false;
      continue;
    }
    kind_entry = &candidate;
  }
  if (kind_entry == nullptr) {
    reportAt(field, "missing the check: one of exec, http or tcp", diag);
    ok = false;
  } else if (kind_entry->key == "exec") {
    probe.kind = ProbeSpec::Kind::kExec;
    ok = readArgv(kind_entry->field(field.path), probe.exec, diag) && ok;
  } else {
    const bool http = kind_entry->key == "http";
    probe.kind = http ? ProbeSpec::Kind::kHttp : ProbeSpec::Kind::kTcp;
    ok = readTarget(*kind_entry, field.path, http, probe, diag) && ok;
  }
  if (const MapEntry* period = view->find("period")) {
    auto value = readPositiveDuration(period->field(field.path), diag);
    ok = ok && value.has_value();
    assignIfPresent(probe.period, value);
  }
  if (const MapEntry* timeout = view->find("timeout")) {
    auto value = readPositiveDuration(timeout->field(field.path), diag);
    ok = ok && value.has_value();
    assignIfPresent(probe.timeout, value);
  }
  if (const MapEntry* threshold = view->find("failure_threshold")) {
    auto value = readInteger(threshold->field(field.path), kMinThreshold, kMaxThreshold, diag);
    ok = ok && value.has_value();
    assignIfPresent(probe.failure_threshold, value);
  }
  if (const MapEntry* delay = view->find("initial_delay")) {
    auto value = readDuration(delay->field(field.path), diag);
    ok = ok && value.has_value();
    assignIfPresent(probe.initial_delay, value);
  }
  if (ok) {
    liveness = std::move(probe);
  }
}

void readWatchdog(const Field& field, std::optional<Duration>& watchdog, Diagnostics& diag) {
  if (auto value = readPositiveDuration(field, diag)) {
    watchdog = *value;
  }
}

}  // namespace vigie::config_detail
