#include "agent/config/workload_parser.h"

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/config/process_parsers.h"
#include "agent/config/section_parsers.h"

namespace vigie::config_detail {
namespace {

constexpr size_t kMaxNameLength = 64;
constexpr int64_t kMaxExitCode = 255;
constexpr int64_t kMinHistory = 1;
constexpr int64_t kMaxHistory = 1000;
constexpr int64_t kMinOomScoreAdj = -1000;
constexpr int64_t kMaxOomScoreAdj = 1000;

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
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

// What a container workload says instead of each key of a process workload.
struct ContainerInstead {
  std::string_view key;
  std::string_view message;
};
constexpr ContainerInstead kNotForContainers[] = {
    {"exec", "not used by container workloads (use container.args for a container's command)"},
    {"env", "not used by container workloads (set container.env)"},
    {"cwd", "not used by container workloads (set container.cwd)"},
    {"user", "not used by container workloads (set container.user: a numeric uid[:gid])"},
    {"group", "not used by container workloads (set container.user: a numeric uid:gid)"},
    {"umask", "not used by container workloads"},
};

void reportProcessKeys(const MapView& view, const std::string& path, Diagnostics& diag) {
  for (const ContainerInstead& instead : kNotForContainers) {
    if (const MapEntry* entry = view.find(instead.key)) {
      diag.report(entry->key_mark, fmt::format("{}.{}: {}", path, instead.key, instead.message));
    }
  }
}

// The command line and credentials of a process workload.
void readProcessKeys(const MapView& view, const Field& field, WorkloadSpec& spec,
                     Diagnostics& diag) {
  const std::string& path = field.path;
  if (const MapEntry* exec = view.find("exec")) {
    readArgv(exec->field(path), spec.exec, diag);
  } else {
    diag.report(field.mark, "missing required key \"exec\"");
  }
  if (const MapEntry* env = view.find("env")) {
    readEnv(env->field(path), spec.env, diag);
  }
  if (const MapEntry* cwd = view.find("cwd")) {
    assignIfPresent(spec.cwd, readAbsolutePath(cwd->field(path), diag));
  }
  if (const MapEntry* user = view.find("user")) {
    readUser(user->field(path), spec.user, diag);
  }
  if (const MapEntry* group = view.find("group")) {
    readGroup(group->field(path), spec.group, diag);
  }
  if (const MapEntry* umask = view.find("umask")) {
    readUmask(umask->field(path), spec.umask, diag);
  }
}

void readHealthKeys(const MapView& view, const std::string& path, WorkloadSpec& spec,
                    Diagnostics& diag) {
  if (const MapEntry* notify = view.find("notify")) {
    assignIfPresent(spec.notify, readBool(notify->field(path), diag));
  }
  if (const MapEntry* watchdog = view.find("watchdog")) {
    const Field watchdog_field = watchdog->field(path);
    readWatchdog(watchdog_field, spec.watchdog, diag);
    if (spec.watchdog && !spec.notify) {
      // The pings come over the notify socket: without it every instance would be killed.
      reportAt(watchdog_field, "needs notify: true (WATCHDOG=1 pings come over sd_notify)", diag);
    }
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
  view.reportUnknownKeys({"name",
                          "exec",
                          "env",
                          "cwd",
                          "user",
                          "group",
                          "umask",
                          "rlimits",
                          "oom_score_adj",
                          "restart",
                          "success_exit_codes",
                          "stop",
                          "output",
                          "history",
                          "core",
                          "resources",
                          "liveness",
                          "notify",
                          "watchdog",
                          "container"},
                         context, diag);

  const MapEntry* container = view.find("container");
  if (container != nullptr) {
    readContainer(*container, path, spec.container, diag);
    reportProcessKeys(view, path, diag);
  } else {
    readProcessKeys(view, field, spec, diag);
  }
  if (const MapEntry* rlimits = view.find("rlimits")) {
    readRlimits(rlimits->field(path), spec.rlimits, diag);
  }
  if (const MapEntry* oom = view.find("oom_score_adj")) {
    if (auto value = readInteger(oom->field(path), kMinOomScoreAdj, kMaxOomScoreAdj, diag)) {
      spec.oom_score_adj = static_cast<int>(*value);
    }
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
  if (const MapEntry* core = view.find("core")) {
    assignIfPresent(spec.core, readBool(core->field(path), diag));
  }
  if (const MapEntry* resources = view.find("resources")) {
    readResources(*resources, path, spec.resources, diag);
  }
  if (const MapEntry* history = view.find("history")) {
    assignIfPresent(spec.history,
                    readInteger(history->field(path), kMinHistory, kMaxHistory, diag));
  }
  if (const MapEntry* liveness = view.find("liveness")) {
    readLiveness(*liveness, path, spec.liveness, diag);
  }
  readHealthKeys(view, path, spec, diag);
  if (spec.notify && spec.container && !spec.container->bundle.empty()) {
    // The socket is mounted into the container through the config.json vigied writes.
    diag.report(view.find("notify")->key_mark,
                fmt::format("{}.notify: needs container.rootfs (a bundle's config.json is used as "
                            "it is, without the notify socket)",
                            path));
  }
  return parsed;
}

}  // namespace vigie::config_detail
