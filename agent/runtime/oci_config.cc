// The config.json of a rootfs container, modelled on what `runc spec` prints, minus what vigied
// does itself: no rlimits (the runtime's, which vigied sets, are inherited) and no
// linux.resources (limits live on the unit's cgroup). The runtime still applies its default
// device rules without them.
#include "agent/runtime/oci_config.h"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigie {
namespace {

using nlohmann::json;

constexpr const char* kOciVersion = "1.0.2-dev";
constexpr const char* kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

json defaultCapabilities() {
  const json caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  // Not inheritable or ambient: a workload that execs another program does not pass them on.
  return {{"bounding", caps}, {"effective", caps}, {"permitted", caps}};
}

json processEnv(const ContainerSpec& spec, const OciConfigInputs& inputs) {
  json env = json::array();
  bool has_path = false;
  for (const auto& [name, value] : spec.env) {
    has_path = has_path || name == "PATH";
  }
  if (!has_path) {
    env.push_back(kDefaultPath);
  }
  for (const auto& [name, value] : spec.env) {
    std::string entry = name;
    entry += '=';
    entry += value;
    env.push_back(std::move(entry));
  }
  if (!inputs.notify_socket.empty()) {
    env.push_back(std::string("NOTIFY_SOCKET=") + kContainerNotifyPath);
    if (inputs.watchdog_usec > 0) {
      env.push_back("WATCHDOG_USEC=" + std::to_string(inputs.watchdog_usec));
    }
  }
  return env;
}

json processArgs(const ContainerSpec& spec) {
  json args = json::array();
  if (spec.init) {
    // tini and catatonit both take the program after "--".
    args.push_back(kContainerInitPath);
    args.push_back("--");
  }
  for (const std::string& arg : spec.args) {
    args.push_back(arg);
  }
  return args;
}

json process(const ContainerSpec& spec, const OciConfigInputs& inputs) {
  const uint32_t uid = spec.uid.value_or(0);
  json section;
  section["terminal"] = false;
  section["user"] = {{"uid", uid}, {"gid", spec.gid.value_or(uid)}};
  section["args"] = processArgs(spec);
  section["env"] = processEnv(spec, inputs);
  section["cwd"] = spec.cwd;
  section["capabilities"] = defaultCapabilities();
  section["noNewPrivileges"] = true;
  return section;
}

json mount(std::string_view destination, std::string_view type, std::string_view source,
           const std::vector<std::string>& options) {
  json entry = {{"destination", destination}, {"type", type}, {"source", source}};
  if (!options.empty()) {
    entry["options"] = options;
  }
  return entry;
}

json mounts(const ContainerSpec& spec, const OciConfigInputs& inputs) {
  json list = json::array({
      mount("/proc", "proc", "proc", {}),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts",
            {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
  });
  if (spec.init) {
    // After /dev, on whose tmpfs the runtime creates the mount point.
    list.push_back(
        mount(kContainerInitPath, "bind", inputs.init_path, {"bind", "ro", "nosuid", "nodev"}));
  }
  if (!inputs.notify_socket.empty()) {
    // Writable: sending a datagram needs write permission on the socket.
    list.push_back(mount(kContainerNotifyPath, "bind", inputs.notify_socket,
                         {"bind", "nosuid", "nodev", "noexec"}));
  }
  for (const ContainerMountSpec& bind : spec.mounts) {
    // rprivate: mounts made later on either side do not propagate to the other.
    std::vector<std::string> options = {"rbind", "rprivate", "nosuid", "nodev"};
    if (bind.readonly) {
      options.emplace_back("ro");
    }
    list.push_back(mount(bind.destination, "bind", bind.source, options));
  }
  return list;
}

json linuxSection(const ContainerSpec& spec, const OciConfigInputs& inputs) {
  json namespaces = json::array({{{"type", "pid"}}});
  if (!spec.host_network) {
    namespaces.push_back({{"type", "network"}});
  }
  for (const char* type : {"ipc", "uts", "mount"}) {
    namespaces.push_back({{"type", type}});
  }
  json section = {
      {"namespaces", std::move(namespaces)},
      {"maskedPaths",
       {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
        "/proc/scsi"}},
      {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
  };
  if (!inputs.cgroups_path.empty()) {
    section["cgroupsPath"] = inputs.cgroups_path;
  }
  return section;
}

}  // namespace

Result<std::string> makeOciConfig(const ContainerSpec& spec, const OciConfigInputs& inputs) {
  if (spec.rootfs.empty()) {
    return Error{"container has no rootfs (a bundle brings its own config.json)", EINVAL};
  }
  if (spec.args.empty()) {
    return Error{"container has no args", EINVAL};
  }
  if (spec.init && inputs.init_path.empty()) {
    return Error{
        "init: true but no static init was found to mount at " + std::string(kContainerInitPath),
        ENOENT};
  }
  const json config = {
      {"ociVersion", kOciVersion},
      {"process", process(spec, inputs)},
      {"root", {{"path", spec.rootfs}, {"readonly", spec.readonly}}},
      {"hostname", spec.hostname.empty() ? inputs.unit_name : spec.hostname},
      {"mounts", mounts(spec, inputs)},
      {"linux", linuxSection(spec, inputs)},
  };
  // Strings from the config may hold invalid UTF-8; replace it rather than fail (dump throws).
  return config.dump(2, ' ', false, json::error_handler_t::replace);
}

}  // namespace vigie
