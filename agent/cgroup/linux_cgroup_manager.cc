#include "agent/cgroup/linux_cgroup_manager.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "agent/cgroup/cgroup_files.h"
#include "agent/cgroup/layout.h"

namespace vigie {
namespace {

// The controllers limits use, in the order cgroup2 enables them.
const std::set<std::string> kLimitControllers = {"cpu", "memory", "pids"};
// Where vigied moves itself when its own cgroup must hand its controllers down (cgroup2's
// "no internal processes" rule: a cgroup with processes cannot enable controllers for children).
constexpr const char* kAgentLeaf = "vigied";

std::set<std::string> limitControllers(const std::set<std::string>& controllers) {
  std::set<std::string> out;
  for (const std::string& controller : controllers) {
    if (kLimitControllers.count(controller) != 0) {
      out.insert(controller);
    }
  }
  return out;
}

// "/a/b/c" -> {"/a", "/a/b", "/a/b/c"}, below `start` ("/a" start: {"/a/b", "/a/b/c"}).
std::vector<std::string> pathsBelow(const std::string& start, const std::string& path) {
  std::vector<std::string> out;
  size_t pos = start == "/" ? 0 : start.size();
  while (pos < path.size()) {
    const size_t next = path.find('/', pos + 1);
    out.push_back(path.substr(0, next));
    pos = next == std::string::npos ? path.size() : next;
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<LinuxCgroupManager>> LinuxCgroupManager::create(
    Dispatcher& dispatcher, CgroupManagerOptions options) {
  const CgroupLayout layout = options.layout.value_or(detectCgroupLayout(options.root));
  if (layout == CgroupLayout::kNone) {
    return Error{"no cgroup filesystem at " + options.root, ENOENT};
  }
  auto own = readProcCgroups(options.proc_self_cgroup);
  if (!own) {
    return own.error();
  }
  std::unique_ptr<LinuxCgroupManager> manager(
      new LinuxCgroupManager(dispatcher, std::move(options), layout));
  if (layout == CgroupLayout::kUnified || layout == CgroupLayout::kHybrid) {
    if (Status ready = manager->setUpUnified(own->unified); !ready) {
      return ready.error();
    }
    auto watcher = CgroupEventsWatcher::create(dispatcher);
    if (!watcher) {
      return watcher.error();
    }
    manager->watcher_ = std::move(*watcher);
  }
  if (layout == CgroupLayout::kHybrid || layout == CgroupLayout::kLegacy) {
    // Hybrid hosts kill and count CPU time in the unified hierarchy: no freezer, no cpuacct.
    const std::vector<std::string> wanted =
        layout == CgroupLayout::kHybrid
            ? std::vector<std::string>{"memory", "cpu", "pids"}
            : std::vector<std::string>{"memory", "cpu", "cpuacct", "pids", "freezer"};
    auto v1 = Cgroup1Hierarchies::discover(wanted, *own, manager->options_.parent);
    if (!v1) {
      return v1.error();
    }
    if (Status created = v1->createBases(); !created) {
      return created.error();
    }
    manager->v1_ = std::move(*v1);
  }
  return manager;
}

LinuxCgroupManager::~LinuxCgroupManager() {
  for (auto it = v2_created_.rbegin(); it != v2_created_.rend(); ++it) {
    ::rmdir((v2_root_ + *it).c_str());
  }
  if (v1_) {
    v1_->removeBases();
  }
}

Status LinuxCgroupManager::setUpUnified(const std::string& own) {
  v2_root_ = layout_ == CgroupLayout::kUnified ? options_.root : options_.root + "/unified";
  v2_parent_ = joinCgroupPath(own.empty() ? "/" : own, options_.parent);
  // Relative parents hang below vigied's own cgroup (the delegated subtree under systemd);
  // absolute ones below the root.
  const std::string start = options_.parent.front() == '/' || own.empty() ? "/" : own;
  for (const std::string& dir : pathsBelow(start, v2_parent_)) {
    const std::string path = v2_root_ + dir;
    if (::mkdir(path.c_str(), 0755) == 0) {
      v2_created_.push_back(dir);
    } else if (errno != EEXIST) {
      return Error::fromErrno("mkdir " + path);
    }
  }
  if (layout_ == CgroupLayout::kUnified) {
    return enableControllers(start, v2_parent_);
  }
  return Status::okStatus();
}

Status LinuxCgroupManager::enableControllers(const std::string& own_dir,
                                             const std::string& parent_dir) {
  std::vector<std::string> chain = {own_dir};
  for (std::string& dir : pathsBelow(own_dir, parent_dir)) {
    chain.push_back(std::move(dir));
  }
  for (const std::string& dir : chain) {
    const std::string path = v2_root_ + (dir == "/" ? "" : dir);
    UniqueFd dir_fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd) {
      return Error::fromErrno("open " + path);
    }
    auto available = readCgroupFileAt(dir_fd.get(), "cgroup.controllers");
    if (!available) {
      if (options_.warn) {
        options_.warn(path + "/cgroup.controllers: " + available.error().message);
      }
      continue;
    }
    for (const std::string& controller : parseWords(*available)) {
      if (kLimitControllers.count(controller) == 0) {
        continue;
      }
      Status enabled = writeCgroupFileAt(dir_fd.get(), "cgroup.subtree_control", "+" + controller);
      if (!enabled && enabled.error().errno_value == EBUSY && dir == own_dir) {
        // Processes (ours) live in the cgroup that must hand its controllers down: move into
        // a leaf of our own, then try again.
        const std::string leaf = path + "/" + kAgentLeaf;
        if (::mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) {
          return Error::fromErrno("mkdir " + leaf);
        }
        UniqueFd leaf_fd(::open(leaf.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (Status moved = writeCgroupFileAt(leaf_fd.get(), "cgroup.procs", "0"); !moved) {
          return Error{"move vigied to " + leaf + ": " + moved.error().message};
        }
        enabled = writeCgroupFileAt(dir_fd.get(), "cgroup.subtree_control", "+" + controller);
      }
      if (!enabled && options_.warn) {
        // Not fatal: limits that need it fail (or warn, when optional) unit by unit.
        options_.warn("cannot enable the " + controller + " controller in " + path + ": " +
                      enabled.error().message);
      }
    }
  }
  return Status::okStatus();
}

Result<UnitCgroupPtr> LinuxCgroupManager::createUnit(const std::string& unit,
                                                     const ResourcesSpec& resources) {
  LinuxUnitCgroup::Parts parts;
  if (!v2_root_.empty()) {
    auto v2 = Cgroup2Unit::open(v2_root_, joinCgroupPath(v2_parent_, unit));
    if (!v2) {
      return v2.error();
    }
    parts.v2 = std::move(*v2);
    parts.v2_limits = layout_ == CgroupLayout::kUnified;
    if (parts.v2_limits) {
      parts.controllers = limitControllers(parts.v2->controllers());
    }
  }
  if (v1_) {
    auto v1 = Cgroup1Unit::create(*v1_, unit);
    if (!v1) {
      return v1.error();
    }
    parts.v1 = std::move(*v1);
    parts.controllers = limitControllers(v1_->controllers());
  }
  auto cgroup = std::make_unique<LinuxUnitCgroup>(unit, dispatcher_, watcher_.get(), options_.warn,
                                                  std::move(parts));
  // An error drops `cgroup`, which removes what was just created.
  if (Status applied = cgroup->apply(resources); !applied) {
    return applied.error();
  }
  if (cgroup->populated()) {
    if (options_.warn) {
      options_.warn(unit + ": cgroup " + cgroup->describe() +
                    " holds processes left by a previous agent; killing them");
    }
    cgroup->killAll(nullptr);
  }
  return UnitCgroupPtr(std::move(cgroup));
}

std::string LinuxCgroupManager::describe() const {
  std::string out(cgroupLayoutName(layout_));
  if (v1_) {
    std::string where;
    for (const Cgroup1Hierarchy& hierarchy : v1_->hierarchies()) {
      std::string controllers;
      for (const std::string& controller : hierarchy.controllers) {
        controllers += (controllers.empty() ? "" : ",") + controller;
      }
      where += " " + controllers + ":" + hierarchy.base;
    }
    out += "; units under" + where;
  }
  if (!v2_root_.empty()) {
    out += layout_ == CgroupLayout::kUnified ? "; units under 0::" + v2_parent_
                                             : "; kill and placement in 0::" + v2_parent_;
  }
  return out;
}

}  // namespace vigie
