#include "agent/config/workload_parser.h"

#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace vigie::config_detail {
namespace {

constexpr size_t kMaxNameLength = 64;
constexpr int64_t kMaxExitCode = 255;
constexpr int64_t kMinHistory = 1;
constexpr int64_t kMaxHistory = 1000;
constexpr uint64_t kMinTail = uint64_t{1} << 10;
constexpr uint64_t kMaxTail = uint64_t{64} << 20;

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

bool isEnvName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
    return false;
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '_')) {
      return false;
    }
  }
  return true;
}

std::optional<std::string> readName(const Field& field, Diagnostics& diag) {
  std::optional<std::string> name = readString(field, diag);
  if (!name) {
    return std::nullopt;
  }
  if (name->empty()) {
    reportAt(field, "name must not be empty", diag);
    return std::nullopt;
  }
  if (name->size() > kMaxNameLength) {
    reportAt(field, fmt::format("name \"{}\" is longer than {} characters", *name, kMaxNameLength),
             diag);
    return std::nullopt;
  }
  for (char c : *name) {
    if (!isNameChar(c)) {
      reportAt(field,
               fmt::format("invalid name \"{}\" (use only letters, digits, \"_\", \".\" and \"-\")",
                           *name),
               diag);
      return std::nullopt;
    }
  }
  // Names become file and directory names in the agent's state dir.
  if (*name == "." || *name == "..") {
    reportAt(field, fmt::format("invalid name \"{}\"", *name), diag);
    return std::nullopt;
  }
  return name;
}

void readExec(const Field& field, WorkloadSpec& spec, Diagnostics& diag) {
  if (!expectList(field, diag)) {
    return;
  }
  if (field.node.size() == 0) {
    reportAt(field, "must not be empty (expected the program and its arguments)", diag);
    return;
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
    spec.exec = std::move(argv);
  }
}

void readEnv(const Field& field, WorkloadSpec& spec, Diagnostics& diag) {
  // "env:" with every variable commented out is empty, not a mistake.
  if (isAbsent(field) || !expectMap(field, diag)) {
    return;
  }
  MapView env(field.node, diag);
  for (const MapEntry& entry : env.entries()) {
    if (!isEnvName(entry.key)) {
      diag.report(entry.key_mark,
                  fmt::format("{}: invalid variable name \"{}\" (expected letters, digits and "
                              "\"_\", not starting with a digit)",
                              field.path, entry.key));
      continue;
    }
    if (auto value = readString(entry.field(field.path), diag)) {
      spec.env.emplace_back(entry.key, std::move(*value));
    }
  }
}

void readCwd(const Field& field, WorkloadSpec& spec, Diagnostics& diag) {
  std::optional<std::string> cwd = readString(field, diag);
  if (!cwd) {
    return;
  }
  if (cwd->empty() || (*cwd)[0] != '/') {
    reportAt(field, fmt::format("\"{}\" is not an absolute path", *cwd), diag);
    return;
  }
  spec.cwd = std::move(*cwd);
}

// Opens an optional nested section; a null section ("restart:") keeps every default.
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
  } else {
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
        reportAt(field,
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

void readExitCodes(const Field& field, WorkloadSpec& spec, Diagnostics& diag) {
  if (!expectList(field, diag)) {
    return;
  }
  std::vector<int> codes;
  bool ok = true;
  size_t i = 0;
  for (auto it = field.node.begin(); it != field.node.end(); ++it, ++i) {
    auto code = readInteger(field.element(*it, i), 0, kMaxExitCode, diag);
    if (code) {
      codes.push_back(static_cast<int>(*code));
    } else {
      ok = false;
    }
  }
  if (ok) {
    spec.success_exit_codes = std::move(codes);
  }
}

void readStop(const MapEntry& entry, const std::string& parent, StopSpec& stop,
              Diagnostics& diag) {
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
  auto view = openSection(entry, parent, {"tail"}, diag);
  if (!view) {
    return;
  }
  if (const MapEntry* tail = view->find("tail")) {
    const Field field = tail->field(entry.field(parent).path);
    auto value = readSize(field, diag);
    if (value && (*value < kMinTail || *value > kMaxTail)) {
      reportAt(field,
               fmt::format("{} is out of range (expected between 1KiB and 64MiB)",
                           field.node.Scalar()),
               diag);
      return;
    }
    assignIfPresent(output.tail, value);
  }
}

}  // namespace

ParsedWorkload parseWorkload(const Field& field, Diagnostics& diag) {
  ParsedWorkload parsed;
  WorkloadSpec& spec = parsed.spec;
  spec.location = diag.locate(field.mark);
  if (!expectMap(field, diag)) {
    return parsed;
  }
  const MapView view(field.node, diag);
  const std::string& path = field.path;

  std::string context = fmt::format("in {}", path);
  if (const MapEntry* name = view.find("name")) {
    const Field name_field = name->field(path);
    if (auto value = readName(name_field, diag)) {
      spec.name = std::move(*value);
      parsed.name_mark = name_field.mark;
      context = fmt::format("in workload \"{}\"", spec.name);
    }
  } else {
    diag.report(field.mark, "missing required key \"name\"");
  }
  view.reportUnknownKeys({"name", "exec", "env", "cwd", "restart", "success_exit_codes", "stop",
                          "output", "history"},
                         context, diag);

  if (const MapEntry* exec = view.find("exec")) {
    readExec(exec->field(path), spec, diag);
  } else {
    diag.report(field.mark, "missing required key \"exec\"");
  }
  if (const MapEntry* env = view.find("env")) {
    readEnv(env->field(path), spec, diag);
  }
  if (const MapEntry* cwd = view.find("cwd")) {
    readCwd(cwd->field(path), spec, diag);
  }
  if (const MapEntry* restart = view.find("restart")) {
    readRestart(*restart, path, spec.restart, diag);
  }
  if (const MapEntry* codes = view.find("success_exit_codes")) {
    readExitCodes(codes->field(path), spec, diag);
  }
  if (const MapEntry* stop = view.find("stop")) {
    readStop(*stop, path, spec.stop, diag);
  }
  if (const MapEntry* output = view.find("output")) {
    readOutput(*output, path, spec.output, diag);
  }
  if (const MapEntry* history = view.find("history")) {
    assignIfPresent(spec.history,
                    readInteger(history->field(path), kMinHistory, kMaxHistory, diag));
  }
  return parsed;
}

}  // namespace vigie::config_detail
