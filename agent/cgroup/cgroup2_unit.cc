#include "agent/cgroup/cgroup2_unit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "agent/cgroup/cgroup_files.h"

namespace vigie {

Result<std::unique_ptr<Cgroup2Unit>> Cgroup2Unit::open(const std::string& root,
                                                       const std::string& path) {
  const std::string fs_path = root + path;
  if (::mkdir(fs_path.c_str(), 0755) != 0 && errno != EEXIST) {
    return Error::fromErrno("mkdir " + fs_path);
  }
  UniqueFd dir(::open(fs_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) {
    return Error::fromErrno("open " + fs_path);
  }
  std::unique_ptr<Cgroup2Unit> unit(new Cgroup2Unit(path, fs_path, std::move(dir)));
  const int d = unit->dir_.get();
  unit->procs_write_ = openCgroupFile(d, "cgroup.procs", O_WRONLY);
  unit->procs_read_ = openCgroupFile(d, "cgroup.procs", O_RDONLY);
  if (!unit->procs_write_ || !unit->procs_read_) {
    return Error::fromErrno("open " + fs_path + "/cgroup.procs");
  }
  unit->events_ = openCgroupFile(d, "cgroup.events", O_RDONLY);
  // Optional files: missing on older kernels, or without the controller.
  unit->kill_ = openCgroupFile(d, "cgroup.kill", O_WRONLY);
  unit->freeze_ = openCgroupFile(d, "cgroup.freeze", O_WRONLY);
  unit->memory_events_ = openCgroupFile(d, "memory.events", O_RDONLY);
  unit->cpu_stat_ = openCgroupFile(d, "cpu.stat", O_RDONLY);
  return unit;
}

Cgroup2Unit::~Cgroup2Unit() {
  // Only an empty cgroup can go; a unit that is still killing leaves it (and the manager says so).
  dir_.reset();
  ::rmdir(fs_path_.c_str());
}

std::set<std::string> Cgroup2Unit::controllers() const {
  auto text = readCgroupFileAt(dir_.get(), "cgroup.controllers");
  std::set<std::string> out;
  if (text) {
    for (std::string& word : parseWords(*text)) {
      out.insert(std::move(word));
    }
  }
  return out;
}

Status Cgroup2Unit::writeLimits(const std::vector<CgroupWrite>& writes) {
  const std::set<std::string> enabled = controllers();
  for (const CgroupWrite& write : writes) {
    if (enabled.count(write.controller) == 0) {
      continue;
    }
    if (Status written = writeCgroupFileAt(dir_.get(), write.file, write.value); !written) {
      return Error{fs_path_ + ": " + written.error().message, written.error().errno_value};
    }
  }
  return Status::okStatus();
}

bool Cgroup2Unit::populated() const {
  if (!events_) {
    return true;
  }
  auto text = readCgroupFile(events_.get());
  if (!text) {
    return true;
  }
  return parseKeyedValue(*text, "populated").value_or(1) != 0;
}

Status Cgroup2Unit::kill() {
  return writeCgroupFile(kill_.get(), "1");
}

Status Cgroup2Unit::freeze(bool frozen) {
  return writeCgroupFile(freeze_.get(), frozen ? "1" : "0");
}

std::optional<uint64_t> Cgroup2Unit::oomKills() const {
  if (!memory_events_) {
    return std::nullopt;
  }
  auto text = readCgroupFile(memory_events_.get());
  return text ? parseKeyedValue(*text, "oom_kill") : std::nullopt;
}

std::optional<uint64_t> Cgroup2Unit::cpuUsageNs() const {
  if (!cpu_stat_) {
    return std::nullopt;
  }
  auto text = readCgroupFile(cpu_stat_.get());
  auto usec = text ? parseKeyedValue(*text, "usage_usec") : std::nullopt;
  return usec ? std::optional<uint64_t>(*usec * 1000) : std::nullopt;
}

bool Cgroup2Unit::resetPeak() {
  // Before 6.12 memory.peak is read-only, and its peak is the cgroup's whole life: opening it
  // for writing fails then.
  peak_ = openCgroupFile(dir_.get(), "memory.peak", O_RDWR);
  if (peak_ && !writeCgroupFile(peak_.get(), "reset\n")) {
    peak_.reset();
  }
  return peak_.valid();
}

std::optional<uint64_t> Cgroup2Unit::peak() const {
  if (!peak_) {
    return std::nullopt;
  }
  auto text = readCgroupFile(peak_.get());
  return text ? parseSingleValue(*text) : std::nullopt;
}

}  // namespace vigie
