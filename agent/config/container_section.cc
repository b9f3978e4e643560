// A workload's `container:` section: an OCI container run from a root filesystem (vigied writes
// its config.json) or from a ready bundle whose config.json is used as is.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "agent/config/process_parsers.h"
#include "agent/config/section_parsers.h"

namespace vigie::config_detail {
namespace {

// (uid_t)-1 means "leave unchanged" to the kernel's set*id calls: not an id.
constexpr uint64_t kMaxId = 4'294'967'294;
constexpr size_t kMaxHostnameLength = 64;  // HOST_NAME_MAX

// With `bundle`, the bundle's config.json says everything else.
constexpr std::string_view kBundleKeys[] = {"runtime", "bundle", "init"};

std::optional<std::string> readRuntime(const Field& field, Diagnostics& diag) {
  std::optional<std::string> runtime = readString(field, diag);
  if (!runtime || *runtime == "runc" || *runtime == "crun" ||
      (!runtime->empty() && (*runtime)[0] == '/')) {
    return runtime;
  }
  reportAt(
      field,
      fmt::format("unknown runtime \"{}\" (expected runc, crun or an absolute path)", *runtime),
      diag);
  return std::nullopt;
}

std::optional<uint32_t> parseId(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > kMaxId) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(value);
}

// "1000" or "1000:1000". Names are refused: they would have to be looked up in the container's
// /etc/passwd, which the runtime does not do for a config.json and the host's NSS must not.
bool readContainerUser(const Field& field, ContainerSpec& spec, Diagnostics& diag) {
  std::optional<std::string> text = readString(field, diag);
  if (!text) {
    return false;
  }
  const size_t colon = text->find(':');
  const std::string_view whole = *text;
  const std::optional<uint32_t> uid = parseId(whole.substr(0, colon));
  std::optional<uint32_t> gid;
  if (colon != std::string_view::npos) {
    gid = parseId(whole.substr(colon + 1));
  }
  if (uid && (colon == std::string_view::npos || gid)) {
    spec.uid = uid;
    spec.gid = gid;
    return true;
  }
  const bool looks_numeric = std::all_of(whole.begin(), whole.end(),
                                         [](char c) { return (c >= '0' && c <= '9') || c == ':'; });
  if (looks_numeric) {
    reportAt(field,
             fmt::format("\"{}\" is not a uid[:gid] (expected numbers up to {}, such as 1000 or "
                         "1000:1000)",
                         whole, kMaxId),
             diag);
  } else {
    reportAt(field,
             fmt::format("\"{}\": use a numeric uid[:gid] (names would be looked up in the "
                         "container's /etc/passwd)",
                         whole),
             diag);
  }
  return false;
}

bool isHostnameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.';
}

std::optional<std::string> readHostname(const Field& field, Diagnostics& diag) {
  std::optional<std::string> name = readString(field, diag);
  if (!name) {
    return std::nullopt;
  }
  if (name->empty() || name->size() > kMaxHostnameLength || (*name)[0] == '-' ||
      !std::all_of(name->begin(), name->end(), isHostnameChar)) {
    reportAt(field,
             fmt::format("invalid hostname \"{}\" (use 1 to {} letters, digits, \"-\" and \".\", "
                         "not starting with \"-\")",
                         *name, kMaxHostnameLength),
             diag);
    return std::nullopt;
  }
  return name;
}

// One bind mount: {source, destination, readonly}.
std::optional<ContainerMountSpec> readMount(const Field& field, Diagnostics& diag) {
  if (!expectMap(field, diag)) {
    return std::nullopt;
  }
  const MapView view(field.node, diag);
  view.reportUnknownKeys({"source", "destination", "readonly"}, fmt::format("in {}", field.path),
                         diag);
  ContainerMountSpec mount;
  bool ok = true;
  for (std::string_view key : {"source", "destination"}) {
    const MapEntry* entry = view.find(key);
    if (entry == nullptr) {
      reportAt(field, fmt::format("missing required key \"{}\"", key), diag);
      ok = false;
      continue;
    }
    const Field path_field = entry->field(field.path);
    std::optional<std::string> path = readAbsolutePath(path_field, diag);
    if (!path) {
      ok = false;
    } else if (key == "source") {
      mount.source = std::move(*path);
    } else if (*path == "/") {
      reportAt(path_field, "must not be \"/\" (the container's root is rootfs)", diag);
      ok = false;
    } else {
      mount.destination = std::move(*path);
    }
  }
  if (const MapEntry* readonly = view.find("readonly")) {
    std::optional<bool> value = readBool(readonly->field(field.path), diag);
    ok = ok && value.has_value();
    assignIfPresent(mount.readonly, value);
  }
  if (!ok) {
    return std::nullopt;
  }
  return mount;
}

bool readMounts(const Field& field, ContainerSpec& spec, Diagnostics& diag) {
  // "mounts:" with every mount commented out is empty, not a mistake.
  if (isAbsent(field)) {
    return true;
  }
  if (!expectList(field, diag)) {
    return false;
  }
  bool ok = true;
  size_t i = 0;
  for (auto it = field.node.begin(); it != field.node.end(); ++it, ++i) {
    if (auto mount = readMount(field.element(*it, i), diag)) {
      spec.mounts.push_back(std::move(*mount));
    } else {
      ok = false;
    }
  }
  return ok;
}

// Reads an optional boolean key; false when it is there and wrong.
bool readFlag(const MapView& view, std::string_view key, const std::string& path, bool& target,
              Diagnostics& diag) {
  const MapEntry* entry = view.find(key);
  if (entry == nullptr) {
    return true;
  }
  std::optional<bool> value = readBool(entry->field(path), diag);
  assignIfPresent(target, value);
  return value.has_value();
}

// Everything but runtime, bundle and init: the process and the filesystem of a rootfs container.
bool readRootfsKeys(const MapView& view, const Field& field, ContainerSpec& spec,
                    Diagnostics& diag) {
  const std::string& path = field.path;
  bool ok = true;
  if (const MapEntry* args = view.find("args")) {
    ok = readArgv(args->field(path), spec.args, diag) && ok;
  } else {
    reportAt(field, "missing required key \"args\" (the container's command)", diag);
    ok = false;
  }
  if (const MapEntry* env = view.find("env")) {
    ok = readEnv(env->field(path), spec.env, diag) && ok;
  }
  if (const MapEntry* cwd = view.find("cwd")) {
    std::optional<std::string> value = readAbsolutePath(cwd->field(path), diag);
    ok = ok && value.has_value();
    assignIfPresent(spec.cwd, value);
  }
  if (const MapEntry* user = view.find("user")) {
    ok = readContainerUser(user->field(path), spec, diag) && ok;
  }
  if (const MapEntry* hostname = view.find("hostname")) {
    std::optional<std::string> value = readHostname(hostname->field(path), diag);
    ok = ok && value.has_value();
    assignIfPresent(spec.hostname, value);
  }
  ok = readFlag(view, "readonly", path, spec.readonly, diag) && ok;
  ok = readFlag(view, "host_network", path, spec.host_network, diag) && ok;
  if (const MapEntry* mounts = view.find("mounts")) {
    ok = readMounts(mounts->field(path), spec, diag) && ok;
  }
  return ok;
}

}  // namespace

void readContainer(const MapEntry& entry, const std::string& parent,
                   std::optional<ContainerSpec>& out, Diagnostics& diag) {
  const Field field = entry.field(parent);
  if (isAbsent(field)) {
    reportAt(field, "expected a map with rootfs or bundle", diag);
    return;
  }
  auto view = openSection(entry, parent,
                          {"runtime", "rootfs", "bundle", "args", "env", "cwd", "user", "hostname",
                           "readonly", "host_network", "mounts", "init"},
                          diag);
  if (!view) {
    return;
  }
  ContainerSpec spec;
  spec.location = diag.locate(entry.key_mark);
  bool ok = true;
  const MapEntry* rootfs = view->find("rootfs");
  const MapEntry* bundle = view->find("bundle");
  if (rootfs != nullptr && bundle != nullptr) {
    const MapEntry* second = rootfs->key_mark.pos < bundle->key_mark.pos ? bundle : rootfs;
    diag.report(second->key_mark,
                fmt::format("{}: only one of rootfs and bundle may be given", field.path));
    ok = false;
  } else if (rootfs == nullptr && bundle == nullptr) {
    reportAt(field, "missing required key \"rootfs\" (or \"bundle\")", diag);
    ok = false;
  }
  if (const MapEntry* runtime = view->find("runtime")) {
    std::optional<std::string> value = readRuntime(runtime->field(field.path), diag);
    ok = ok && value.has_value();
    assignIfPresent(spec.runtime, value);
  }
  ok = readFlag(*view, "init", field.path, spec.init, diag) && ok;
  if (bundle != nullptr && rootfs == nullptr) {
    std::optional<std::string> value = readAbsolutePath(bundle->field(field.path), diag);
    ok = ok && value.has_value();
    assignIfPresent(spec.bundle, value);
    for (const MapEntry& other : view->entries()) {
      if (std::find(std::begin(kBundleKeys), std::end(kBundleKeys), other.key) ==
          std::end(kBundleKeys)) {
        diag.report(other.key_mark,
                    fmt::format("{}.{}: not used with bundle (the bundle's config.json is used "
                                "as is; only runtime may be set)",
                                field.path, other.key));
        ok = false;
      }
    }
    if (spec.init) {
      diag.report(view->find("init")->key_mark,
                  fmt::format("{}.init: needs rootfs (the bundle's config.json is used as is)",
                              field.path));
      ok = false;
    }
  } else if (rootfs != nullptr) {
    std::optional<std::string> value = readAbsolutePath(rootfs->field(field.path), diag);
    ok = ok && value.has_value();
    assignIfPresent(spec.rootfs, value);
    ok = readRootfsKeys(*view, field, spec, diag) && ok;
  }
  if (ok) {
    out = std::move(spec);
  }
}

}  // namespace vigie::config_detail
