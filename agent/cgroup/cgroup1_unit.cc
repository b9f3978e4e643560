#include "agent/cgroup/cgroup1_unit.h"

#include <fcntl.h>
#include <libcgroup.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstdlib>
#include <map>

#include "agent/cgroup/cgroup_files.h"

namespace vigie {
namespace {

struct CgroupDeleter {
  void operator()(struct cgroup* cg) const { cgroup_free(&cg); }
};
using CgroupHandle = std::unique_ptr<struct cgroup, CgroupDeleter>;

Error libcgroupError(const std::string& what, int rc) {
  const int err = rc == ECGOTHER ? cgroup_get_last_errno() : 0;
  return Error{what + ": " + cgroup_strerror(rc), err};
}

bool isCgroup1(const std::string& mount) {
  struct statfs fs {};
  return ::statfs(mount.c_str(), &fs) == 0 && static_cast<int64_t>(fs.f_type) == CGROUP_SUPER_MAGIC;
}

std::string relative(const std::string& path) {
  return path.size() > 1 && path.front() == '/' ? path.substr(1) : path;
}

}  // namespace

Result<Cgroup1Hierarchies> Cgroup1Hierarchies::discover(const std::vector<std::string>& wanted,
                                                        const ProcCgroups& own,
                                                        const std::string& parent) {
  // Errors come back as codes; libcgroup's own logger would print them to stdout.
  cgroup_set_logger(nullptr, CGROUP_LOG_ERROR, nullptr);
  if (const int rc = cgroup_init(); rc != 0) {
    return libcgroupError("libcgroup: cgroup_init", rc);
  }
  Cgroup1Hierarchies out;
  for (const std::string& controller : wanted) {
    char* mount_point = nullptr;
    if (cgroup_get_subsys_mount_point(controller.c_str(), &mount_point) != 0 ||
        mount_point == nullptr) {
      continue;
    }
    const std::string mount(mount_point);
    std::free(mount_point);
    if (!isCgroup1(mount)) {
      continue;  // hybrid hosts may mount a controller in the unified hierarchy (hugetlb here).
    }
    Cgroup1Hierarchy* hierarchy = nullptr;
    for (Cgroup1Hierarchy& known : out.hierarchies_) {
      if (known.mount == mount) {
        hierarchy = &known;
      }
    }
    if (hierarchy == nullptr) {
      auto own_path = own.v1.find(controller);
      out.hierarchies_.push_back(Cgroup1Hierarchy{
          {}, mount, joinCgroupPath(own_path == own.v1.end() ? "/" : own_path->second, parent)});
      hierarchy = &out.hierarchies_.back();
    }
    hierarchy->controllers.insert(controller);
  }
  return out;
}

std::set<std::string> Cgroup1Hierarchies::controllers() const {
  std::set<std::string> out;
  for (const Cgroup1Hierarchy& hierarchy : hierarchies_) {
    out.insert(hierarchy.controllers.begin(), hierarchy.controllers.end());
  }
  return out;
}

const Cgroup1Hierarchy* Cgroup1Hierarchies::find(const std::string& controller) const {
  for (const Cgroup1Hierarchy& hierarchy : hierarchies_) {
    if (hierarchy.controllers.count(controller) != 0) {
      return &hierarchy;
    }
  }
  return nullptr;
}

void Cgroup1Hierarchies::removeBases() const {
  for (const Cgroup1Hierarchy& hierarchy : hierarchies_) {
    ::rmdir((hierarchy.mount + hierarchy.base).c_str());
  }
}

Status Cgroup1Hierarchies::createBases() const {
  Cgroup1Unit bases;
  std::map<std::string, std::vector<std::string>> by_path;
  for (const Cgroup1Hierarchy& hierarchy : hierarchies_) {
    auto& controllers = by_path[hierarchy.base];
    controllers.insert(controllers.end(), hierarchy.controllers.begin(),
                       hierarchy.controllers.end());
  }
  for (auto& [path, controllers] : by_path) {
    bases.groups_.push_back(Cgroup1Unit::Group{path, std::move(controllers)});
  }
  Status created = bases.run({}, /*create=*/true);
  bases.groups_.clear();  // they stay: the destructor must not delete them.
  return created;
}

Result<std::unique_ptr<Cgroup1Unit>> Cgroup1Unit::create(const Cgroup1Hierarchies& hierarchies,
                                                         const std::string& unit) {
  std::unique_ptr<Cgroup1Unit> out(new Cgroup1Unit());
  std::map<std::string, std::vector<std::string>> by_path;
  for (const Cgroup1Hierarchy& hierarchy : hierarchies.hierarchies()) {
    auto& controllers = by_path[joinCgroupPath(hierarchy.base, unit)];
    controllers.insert(controllers.end(), hierarchy.controllers.begin(),
                       hierarchy.controllers.end());
  }
  for (auto& [path, controllers] : by_path) {
    out->groups_.push_back(Group{path, std::move(controllers)});
  }
  if (Status created = out->run({}, /*create=*/true); !created) {
    return created.error();
  }
  for (const Cgroup1Hierarchy& hierarchy : hierarchies.hierarchies()) {
    const std::string dir = hierarchy.mount + joinCgroupPath(hierarchy.base, unit);
    UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd) {
      return Error::fromErrno("open " + dir);
    }
    UniqueFd procs = openCgroupFile(dir_fd.get(), "cgroup.procs", O_WRONLY);
    if (!procs) {
      return Error::fromErrno("open " + dir + "/cgroup.procs");
    }
    out->procs_write_.push_back(std::move(procs));
    const auto& controllers = hierarchy.controllers;
    if (controllers.count("freezer") != 0) {
      out->freezer_state_ = openCgroupFile(dir_fd.get(), "freezer.state", O_WRONLY);
    }
    if (controllers.count("memory") != 0) {
      out->oom_control_ = openCgroupFile(dir_fd.get(), "memory.oom_control", O_RDONLY);
      out->max_usage_ = openCgroupFile(dir_fd.get(), "memory.max_usage_in_bytes", O_RDWR);
    }
    if (controllers.count("cpuacct") != 0) {
      out->cpuacct_usage_ = openCgroupFile(dir_fd.get(), "cpuacct.usage", O_RDONLY);
    }
    // Every hierarchy holds the same processes; the freezer's is the one the kill loop freezes.
    if (!out->procs_dir_ || controllers.count("freezer") != 0) {
      out->procs_dir_ = std::move(dir_fd);
    }
  }
  return out;
}

Cgroup1Unit::~Cgroup1Unit() {
  procs_write_.clear();
  for (const Group& group : groups_) {
    CgroupHandle cg(cgroup_new_cgroup(relative(group.path).c_str()));
    if (!cg) {
      continue;
    }
    for (const std::string& controller : group.controllers) {
      cgroup_add_controller(cg.get(), controller.c_str());
    }
    // Only if empty: libcgroup would otherwise move leftover processes to the parent.
    cgroup_delete_cgroup_ext(cg.get(), CGFLAG_DELETE_EMPTY_ONLY);
  }
}

Status Cgroup1Unit::run(const std::vector<CgroupWrite>& limits, bool create) {
  for (const Group& group : groups_) {
    CgroupHandle cg(cgroup_new_cgroup(relative(group.path).c_str()));
    if (!cg) {
      return Error{"libcgroup: cannot allocate " + group.path, ENOMEM};
    }
    bool any_value = false;
    for (const std::string& controller : group.controllers) {
      struct cgroup_controller* ctl = cgroup_add_controller(cg.get(), controller.c_str());
      if (ctl == nullptr) {
        return Error{"libcgroup: cannot add controller " + controller, ENOMEM};
      }
      for (const CgroupWrite& write : limits) {
        if (write.controller != controller) {
          continue;
        }
        if (const int rc = cgroup_add_value_string(ctl, write.file.c_str(), write.value.c_str());
            rc != 0) {
          return libcgroupError("libcgroup: " + write.file, rc);
        }
        any_value = true;
      }
    }
    if (!create && !any_value) {
      continue;
    }
    const int rc = create ? cgroup_create_cgroup(cg.get(), 0) : cgroup_modify_cgroup(cg.get());
    if (rc != 0) {
      std::string controllers;
      for (const std::string& controller : group.controllers) {
        controllers += (controllers.empty() ? "" : ",") + controller;
      }
      return libcgroupError(std::string("libcgroup: ") + (create ? "create " : "modify ") +
                                controllers + ":" + group.path,
                            rc);
    }
  }
  return Status::okStatus();
}

std::string Cgroup1Unit::describe() const {
  std::string out;
  for (const Group& group : groups_) {
    std::string controllers;
    for (const std::string& controller : group.controllers) {
      controllers += (controllers.empty() ? "" : ",") + controller;
    }
    out += (out.empty() ? "" : " ") + controllers + ":" + group.path;
  }
  return out;
}

Status Cgroup1Unit::modify(const std::vector<CgroupWrite>& limits) {
  return run(limits, /*create=*/false);
}

std::vector<int> Cgroup1Unit::procsWriteFds() const {
  std::vector<int> fds;
  for (const UniqueFd& fd : procs_write_) {
    fds.push_back(fd.get());
  }
  return fds;
}

Result<std::string> Cgroup1Unit::readProcs() const {
  return readCgroupFileAt(procs_dir_.get(), "cgroup.procs");
}

Status Cgroup1Unit::freeze(bool frozen) {
  return writeCgroupFile(freezer_state_.get(), frozen ? "FROZEN" : "THAWED");
}

std::optional<uint64_t> Cgroup1Unit::oomKills() const {
  if (!oom_control_) {
    return std::nullopt;
  }
  auto text = readCgroupFile(oom_control_.get());
  return text ? parseKeyedValue(*text, "oom_kill") : std::nullopt;
}

std::optional<uint64_t> Cgroup1Unit::cpuUsageNs() const {
  if (!cpuacct_usage_) {
    return std::nullopt;
  }
  auto text = readCgroupFile(cpuacct_usage_.get());
  return text ? parseSingleValue(*text) : std::nullopt;
}

bool Cgroup1Unit::resetPeak() {
  return max_usage_ && writeCgroupFile(max_usage_.get(), "0").ok();
}

std::optional<uint64_t> Cgroup1Unit::peak() const {
  if (!max_usage_) {
    return std::nullopt;
  }
  auto text = readCgroupFile(max_usage_.get());
  return text ? parseSingleValue(*text) : std::nullopt;
}

}  // namespace vigie
