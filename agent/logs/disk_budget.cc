#include "agent/logs/disk_budget.h"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <memory>
#include <string_view>
#include <system_error>

#include "agent/os/unique_fd.h"

namespace vigie {

namespace {

namespace fs = std::filesystem;

// "stdout.log.3" and the like: a live name, a dot, digits.
bool isRotatedLogName(const std::string& name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot + 1 == name.size()) {
    return false;
  }
  if (!std::all_of(name.begin() + static_cast<std::ptrdiff_t>(dot) + 1, name.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  const std::string live = name.substr(0, dot);
  return live.size() > 4 && live.compare(live.size() - 4, 4, ".log") == 0;
}

// Walks with fds rather than std::filesystem's iterator, which gives up on the first entry that
// vanishes under it: the crash spool creates and removes temporary dirs while we count.
uint64_t sumRegularFiles(UniqueFd dir_fd, int depth) {
  constexpr int kMaxDepth = 16;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(dir_fd.get()), ::closedir);
  if (!dir) {
    return 0;
  }
  dir_fd.release();  // the DIR owns it now.
  uint64_t total = 0;
  while (const dirent* entry = ::readdir(dir.get())) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") {
      continue;
    }
    struct stat st {};
    if (::fstatat(::dirfd(dir.get()), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;
    }
    if (S_ISREG(st.st_mode)) {
      total += static_cast<uint64_t>(st.st_size);
    } else if (S_ISDIR(st.st_mode) && depth < kMaxDepth) {
      UniqueFd child(::openat(::dirfd(dir.get()), entry->d_name,
                              O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
      if (child) {
        total += sumRegularFiles(std::move(child), depth + 1);
      }
    }
  }
  return total;
}

int64_t mtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

}  // namespace

DiskBudget::DiskBudget(std::string state_dir, StorageSpec spec, FreeBytesFn free_bytes,
                       std::shared_ptr<spdlog::logger> logger)
    : state_dir_(std::move(state_dir)),
      spec_(spec),
      free_bytes_(free_bytes ? std::move(free_bytes) : FreeBytesFn(statvfsFreeBytes)),
      logger_(std::move(logger)) {
  sources_.push_back([logs = state_dir_ + "/logs"] { return rotatedLogs(logs); });
}

spdlog::logger& DiskBudget::logger() const {
  return logger_ ? *logger_ : *spdlog::default_logger_raw();
}

bool DiskBudget::overBudget(uint64_t used, const Result<uint64_t>& available) const {
  return used > spec_.max_use || (available.ok() && *available < spec_.keep_free);
}

DiskBudget::Outcome DiskBudget::enforce() {
  Outcome outcome;
  uint64_t used = usedBytes(state_dir_);
  Result<uint64_t> available = free_bytes_(state_dir_);
  if (!available.ok() && !free_error_logged_) {
    free_error_logged_ = true;
    logger().warn("disk budget: {}; only max_use is enforced", available.error().message);
  }
  if (overBudget(used, available)) {
    std::vector<BudgetCandidate> candidates;
    for (const CandidateSource& source : sources_) {
      std::vector<BudgetCandidate> more = source();
      candidates.insert(candidates.end(), std::make_move_iterator(more.begin()),
                        std::make_move_iterator(more.end()));
    }
    std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
      return a.mtime_ns != b.mtime_ns ? a.mtime_ns < b.mtime_ns : a.path < b.path;
    });
    for (const BudgetCandidate& candidate : candidates) {
      if (!overBudget(used, available)) {
        break;
      }
      if (::unlink(candidate.path.c_str()) != 0) {
        continue;  // gone already, or not ours to delete: the next candidate may do.
      }
      used -= std::min(used, candidate.size);
      ++outcome.files_deleted;
      outcome.bytes_deleted += candidate.size;
      available = free_bytes_(state_dir_);
    }
  }
  outcome.used_bytes = used;
  outcome.free_bytes = available.ok() ? *available : 0;
  outcome.met = !overBudget(used, available);
  if (outcome.files_deleted > 0) {
    logger().debug("disk budget: deleted {} old file(s), {} bytes, under {}", outcome.files_deleted,
                   outcome.bytes_deleted, state_dir_);
  }
  if (outcome.met) {
    unmet_logged_ = false;
  } else if (!unmet_logged_) {
    unmet_logged_ = true;
    logger().warn(
        "disk budget cannot be met: {} uses {} bytes (max_use {}), {} bytes available (keep_free "
        "{}), "
        "and nothing deletable is left; supervision goes on",
        state_dir_, used, spec_.max_use, outcome.free_bytes, spec_.keep_free);
  }
  return outcome;
}

std::vector<BudgetCandidate> DiskBudget::rotatedLogs(const std::string& logs_dir) {
  std::vector<BudgetCandidate> found;
  std::error_code ec;
  for (fs::directory_iterator unit(logs_dir, ec), end; !ec && unit != end; unit.increment(ec)) {
    if (!unit->is_directory(ec) || unit->is_symlink(ec)) {
      continue;
    }
    std::error_code inner;
    for (fs::directory_iterator file(unit->path(), inner); !inner && file != end;
         file.increment(inner)) {
      const std::string name = file->path().filename().string();
      if (!isRotatedLogName(name)) {
        continue;
      }
      struct stat st {};
      const std::string path = file->path().string();
      if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        found.push_back(BudgetCandidate{path, mtimeNs(st), static_cast<uint64_t>(st.st_size)});
      }
    }
  }
  return found;
}

uint64_t DiskBudget::usedBytes(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return fd ? sumRegularFiles(std::move(fd), 0) : 0;
}

Result<uint64_t> DiskBudget::statvfsFreeBytes(const std::string& path) {
  struct statvfs vfs {};
  if (::statvfs(path.c_str(), &vfs) != 0) {
    return Error::fromErrno("statvfs " + path);
  }
  return static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

}  // namespace vigie
