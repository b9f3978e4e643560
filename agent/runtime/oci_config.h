#pragma once

#include <cstdint>
#include <string>

#include "vigie/config.h"
#include "vigie/result.h"

namespace vigie {

// What a rootfs container's config.json needs besides its ContainerSpec.
struct OciConfigInputs {
  std::string unit_name;     // the hostname when the spec names none.
  std::string cgroups_path;  // linux.cgroupsPath; "": the runtime's default place.
  // Host path of a static init (tini, catatonit) bind-mounted read-only at kContainerInitPath;
  // used when spec.init is set.
  std::string init_path;
  // Host path of vigied's sd_notify socket for `notify: true` ("" for none): bind-mounted at
  // kContainerNotifyPath, with NOTIFY_SOCKET (and WATCHDOG_USEC when watchdog_usec > 0) in env.
  std::string notify_socket{};
  uint64_t watchdog_usec = 0;
};

// Where init: true mounts the init inside the container. /dev is the runtime's own tmpfs, so the
// mount point is created there and never in the user's root filesystem.
inline constexpr const char* kContainerInitPath = "/dev/init";
// Where notify: true mounts vigied's sd_notify socket (the socket alone: its directory also holds
// the API's socket).
inline constexpr const char* kContainerNotifyPath = "/dev/notify";

// The OCI runtime-spec 1.0 config.json for a `rootfs` container: process (args, env after a
// default PATH, cwd, uid/gid, terminal false, noNewPrivileges, the runtime's default
// capabilities), root (path, readonly), hostname, mounts (/proc, /dev, /dev/pts, /dev/shm,
// /dev/mqueue, /sys read-only, then the spec's bind mounts), namespaces (pid, ipc, uts, mount,
// and network unless host_network), masked and read-only paths, and cgroupsPath.
// With init, args become [kContainerInitPath, "--", args...].
Result<std::string> makeOciConfig(const ContainerSpec& spec, const OciConfigInputs& inputs);

// The first of `candidates` that is a statically linked executable (a dynamic one would need the
// container's libraries). Default candidates: /usr/bin/tini-static, /usr/bin/catatonit.
Result<std::string> findStaticInit();
Result<std::string> findStaticInit(const std::vector<std::string>& candidates);

}  // namespace vigie
