#include "tests/integration/container_rootfs.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

namespace vigie::testing {

std::string makeBusyboxRootfs(const std::string& path, const std::string& crasher,
                              const std::string& health) {
  namespace fs = std::filesystem;
  fs::create_directories(path + "/bin");
  fs::create_directories(path + "/tmp");
  fs::copy_file("/bin/busybox", path + "/bin/busybox", fs::copy_options::overwrite_existing);
  for (const char* applet : {"sh", "sleep", "echo", "cat", "hostname", "kill", "ls", "id"}) {
    fs::create_symlink("busybox", path + "/bin/" + applet);
  }
  if (!crasher.empty()) {
    fs::copy_file(crasher, path + "/bin/crash", fs::copy_options::overwrite_existing);
  }
  if (!health.empty()) {
    fs::copy_file(health, path + "/bin/health", fs::copy_options::overwrite_existing);
  }
  return path;
}

std::string staticCrasherPath() {
  return std::string(VIGIE_HELPERS_DIR) + "/crashers/segv_deep_static";
}

std::string staticHealthWorkloadPath() {
  return std::string(VIGIE_HELPERS_DIR) + "/health_workload_static";
}

std::vector<std::string> runcContainers(const std::string& state_root) {
  std::vector<std::string> ids;
  const std::string command = "runc --root '" + state_root + "' list -q 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char line[512];
  while (std::fgets(line, sizeof(line), pipe) != nullptr) {
    std::string id(line);
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) {
      id.pop_back();
    }
    if (!id.empty()) {
      ids.push_back(id);
    }
  }
  ::pclose(pipe);
  return ids;
}

}  // namespace vigie::testing
