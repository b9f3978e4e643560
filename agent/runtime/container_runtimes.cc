#include "agent/runtime/container_runtimes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "agent/os/linux_spawner.h"
#include "agent/runtime/container_spawner.h"
#include "agent/runtime/oci_config.h"

namespace vigie {
namespace {

constexpr const char* kDefaultSearchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin";

bool isExecutable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// The spawner's PATH lookup; "" when `name` is not there.
std::string findInPath(const std::string& name, const std::string& search_path) {
  auto found = resolveExecutable(name, search_path);
  return found ? *found : std::string();
}

// Written whole or not at all: a runtime never reads half a config.
Status writeFileAtomically(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      return Error{"cannot write " + temp, EIO};
    }
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return Error::fromErrno("rename " + temp);
  }
  return Status::okStatus();
}

Status makePrivateDir(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    return Error{"cannot create " + path + ": " + ec.message(), ec.value()};
  }
  ::chmod(path.c_str(), 0700);
  return Status::okStatus();
}

}  // namespace

Result<std::string> chooseContainerRuntime(const std::string& wanted, CgroupLayout layout,
                                           const std::string& search_path) {
  const bool hybrid = layout == CgroupLayout::kHybrid;
  if (!wanted.empty()) {
    const std::string path = wanted[0] == '/' ? wanted : findInPath(wanted, search_path);
    if (path.empty() || !isExecutable(path)) {
      return Error{"container runtime \"" + wanted + "\" not found (install the " + wanted +
                       " package, or give its absolute path)",
                   ENOENT};
    }
    if (hybrid && runtimeName(path) == "crun") {
      return Error{
          "crun cannot run containers on this host's hybrid cgroup layout (it refuses a "
          "cgroup2 that holds controllers beside v1); use runtime: runc",
          ENOTSUP};
    }
    return path;
  }
  for (const char* name : {"runc", "crun"}) {
    if (hybrid && std::string(name) == "crun") {
      continue;
    }
    if (std::string path = findInPath(name, search_path); !path.empty()) {
      return path;
    }
  }
  return Error{hybrid ? "no container runtime works on this hybrid cgroup host: install runc"
                      : "no container runtime found: install runc or crun",
               ENOENT};
}

LinuxContainerRuntimes::LinuxContainerRuntimes(std::string state_dir, CgroupLayout layout,
                                               ContainerSpawner& spawner)
    : state_dir_(std::move(state_dir)), layout_(layout), spawner_(spawner) {}

Result<ContainerLaunch> LinuxContainerRuntimes::prepare(const std::string& unit,
                                                        const ContainerSpec& spec,
                                                        const std::string& notify_socket,
                                                        std::optional<Duration> watchdog) {
  auto runtime = chooseContainerRuntime(spec.runtime, layout_, kDefaultSearchPath);
  if (!runtime) {
    return runtime.error();
  }
  ContainerLaunch launch;
  launch.runtime = *runtime;
  launch.name = unit;
  launch.init = spec.bundle.empty() && spec.init;
  launch.state_root = state_dir_ + "/runtime/" + runtimeName(*runtime);
  launch.work_dir = state_dir_ + "/containers/" + unit;
  for (const std::string& dir : {launch.state_root, launch.work_dir}) {
    if (Status made = makePrivateDir(dir); !made) {
      return made.error();
    }
  }
  if (!spec.bundle.empty()) {
    launch.bundle = spec.bundle;
    return launch;
  }
  OciConfigInputs inputs;
  inputs.unit_name = unit;
  inputs.notify_socket = notify_socket;
  if (watchdog) {
    inputs.watchdog_usec = static_cast<uint64_t>(std::max<int64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(*watchdog).count(), 1));
  }
  if (spec.init) {
    auto init = findStaticInit();
    if (!init) {
      return init.error();
    }
    inputs.init_path = *init;
  }
  // No cgroupsPath: the runtime runs in the unit's cgroup, and its default puts the container
  // in a child of its own cgroup named after the container, in every hierarchy (a v1 unit's
  // paths differ between hierarchies, which one cgroupsPath cannot say).
  auto config = makeOciConfig(spec, inputs);
  if (!config) {
    return config.error();
  }
  launch.bundle = launch.work_dir;
  if (Status written = writeFileAtomically(launch.bundle + "/config.json", *config); !written) {
    return written.error();
  }
  return launch;
}

void LinuxContainerRuntimes::deleteLeftovers() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(state_dir_ + "/runtime", ec)) {
    auto runtime = chooseContainerRuntime(entry.path().filename().string(), CgroupLayout::kNone,
                                          kDefaultSearchPath);
    if (runtime) {
      spawner_.deleteLeftovers(*runtime, entry.path().string());
    }
  }
}

}  // namespace vigie
