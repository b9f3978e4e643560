// Which OCI runtime runs a container unit, and the bundle it runs (docs/containers.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vigie/cgroup.h"
#include "vigie/config.h"
#include "vigie/process.h"
#include "vigie/result.h"

namespace vigie {

class ContainerSpawner;

// What units need to run containers. Loop thread only.
class ContainerRuntimes {
 public:
  virtual ~ContainerRuntimes() = default;
  // Resolves the spec's runtime and, for a rootfs spec, writes the bundle's config.json. Called
  // when a unit's spec is set, not on the restart path. An error: the unit cannot start as
  // configured, and the message says why.
  // `notify_socket` (host path, "" for none) and `watchdog` are the unit's sd_notify set-up.
  virtual Result<ContainerLaunch> prepare(const std::string& unit, const ContainerSpec& spec,
                                          const std::string& notify_socket,
                                          std::optional<Duration> watchdog) = 0;
};

// The runtime `wanted` names ("runc", "crun", an absolute path, or "" for the first of runc and
// crun that works on `layout`), looked up in `search_path` (a PATH value). crun refuses hybrid
// hosts (a cgroup2 that holds controllers beside v1), so it is never chosen, and an error when
// asked for, there.
Result<std::string> chooseContainerRuntime(const std::string& wanted, CgroupLayout layout,
                                           const std::string& search_path);

class LinuxContainerRuntimes final : public ContainerRuntimes {
 public:
  // Bundles go to <state_dir>/containers/<unit>, runtime state to <state_dir>/runtime/<name>.
  LinuxContainerRuntimes(std::string state_dir, CgroupLayout layout, ContainerSpawner& spawner);

  Result<ContainerLaunch> prepare(const std::string& unit, const ContainerSpec& spec,
                                  const std::string& notify_socket,
                                  std::optional<Duration> watchdog) override;
  // Deletes the containers a previous agent left behind (at start, before any unit runs).
  void deleteLeftovers();

 private:
  std::string state_dir_;
  CgroupLayout layout_;
  ContainerSpawner& spawner_;
};

}  // namespace vigie
