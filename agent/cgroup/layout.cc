#include "agent/cgroup/layout.h"

#include <linux/magic.h>
#include <sys/statfs.h>

#include <fstream>
#include <sstream>

namespace vigie {
namespace {

bool isFilesystem(const std::string& path, int64_t magic) {
  struct statfs fs {};
  return ::statfs(path.c_str(), &fs) == 0 && static_cast<int64_t>(fs.f_type) == magic;
}

}  // namespace

CgroupLayout detectCgroupLayout(const std::string& cgroup_root) {
  if (isFilesystem(cgroup_root, CGROUP2_SUPER_MAGIC)) {
    return CgroupLayout::kUnified;
  }
  if (isFilesystem(cgroup_root + "/unified", CGROUP2_SUPER_MAGIC)) {
    return CgroupLayout::kHybrid;
  }
  if (isFilesystem(cgroup_root, TMPFS_MAGIC)) {
    return CgroupLayout::kLegacy;
  }
  return CgroupLayout::kNone;
}

std::string_view cgroupLayoutName(CgroupLayout layout) {
  switch (layout) {
    case CgroupLayout::kNone:
      return "none";
    case CgroupLayout::kLegacy:
      return "legacy (v1)";
    case CgroupLayout::kHybrid:
      return "hybrid (v1 controllers, v2 at unified/)";
    case CgroupLayout::kUnified:
      return "unified (v2)";
  }
  return "none";
}

ProcCgroups parseProcCgroups(std::string_view text) {
  ProcCgroups out;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    // "ID:CONTROLLERS:PATH"; the path may itself hold ':'.
    const size_t first = line.find(':');
    const size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) {
      continue;
    }
    const std::string_view id = line.substr(0, first);
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    const std::string path(line.substr(second + 1));
    if (id == "0" && controllers.empty()) {
      out.unified = path;
      continue;
    }
    while (!controllers.empty()) {
      const size_t comma = controllers.find(',');
      const std::string_view name = controllers.substr(0, comma);
      if (!name.empty()) {
        out.v1[std::string(name)] = path;
      }
      controllers.remove_prefix(comma == std::string_view::npos ? controllers.size() : comma + 1);
    }
  }
  return out;
}

Result<ProcCgroups> readProcCgroups(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Error::fromErrno("open " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parseProcCgroups(text.str());
}

std::string joinCgroupPath(std::string_view base, std::string_view path) {
  if (!path.empty() && path.front() == '/') {
    return std::string(path);
  }
  std::string out(base);
  while (!out.empty() && out.back() == '/') {
    out.pop_back();
  }
  out += '/';
  out += path;
  return out;
}

}  // namespace vigie
