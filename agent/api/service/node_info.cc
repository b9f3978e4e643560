#include "agent/api/service/node_info.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "agent/api/proto_convert.h"
#include "agent/cgroup/layout.h"

#ifndef VIGIE_VERSION
#define VIGIE_VERSION "unknown"
#endif

namespace vigie {
namespace {

// The first line of a small text file, without its newline; "" when it cannot be read.
std::string firstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

uint64_t memoryTotal(const std::string& proc_root) {
  std::ifstream in(proc_root + "/meminfo");
  std::string key;
  uint64_t kib = 0;
  while (in >> key >> kib) {
    if (key == "MemTotal:") {
      return kib * 1024;
    }
    in.ignore(256, '\n');
  }
  return 0;
}

}  // namespace

v1::CgroupLayout toProto(CgroupLayout layout) {
  switch (layout) {
    case CgroupLayout::kUnified:
      return v1::CGROUP_LAYOUT_UNIFIED;
    case CgroupLayout::kHybrid:
      return v1::CGROUP_LAYOUT_HYBRID;
    case CgroupLayout::kLegacy:
      return v1::CGROUP_LAYOUT_LEGACY;
    case CgroupLayout::kNone:
      return v1::CGROUP_LAYOUT_UNSPECIFIED;
  }
  return v1::CGROUP_LAYOUT_UNSPECIFIED;
}

v1::NodeInfo readNodeInfo(uint64_t epoch, WallTime agent_start, const NodeInfoSources& sources) {
  v1::NodeInfo info;
  char hostname[256] = {};
  if (::gethostname(hostname, sizeof(hostname) - 1) == 0) {
    info.set_hostname(hostname);
  }
  info.set_boot_id(firstLine(sources.proc_root + "/sys/kernel/random/boot_id"));
  info.set_machine_id(firstLine(sources.machine_id_file));
  struct utsname names {};
  if (::uname(&names) == 0) {
    info.set_kernel_release(names.release);
    info.set_kernel_version(names.version);
    info.set_architecture(names.machine);
  }
  info.set_cgroup_layout(toProto(detectCgroupLayout(sources.cgroup_root)));
  info.set_psi_available(::access((sources.proc_root + "/pressure/cpu").c_str(), R_OK) == 0);
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  info.set_cpu_count(cpus > 0 ? static_cast<uint32_t>(cpus) : 0);
  info.set_memory_total_bytes(memoryTotal(sources.proc_root));
  info.set_agent_version(VIGIE_VERSION);
  *info.mutable_agent_start_time() = toTimestamp(agent_start);
  info.set_agent_epoch(epoch);
  return info;
}

}  // namespace vigie
