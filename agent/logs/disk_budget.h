#pragma once

#include <spdlog/logger.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vigie/config.h"
#include "vigie/result.h"

namespace vigie {

// A file the budget may delete when the state dir is over its budget.
struct BudgetCandidate {
  std::string path;
  int64_t mtime_ns = 0;  // oldest goes first.
  uint64_t size = 0;
};

// One budget for everything under the state dir (logs now, the crash spool later), in the manner
// of systemd-coredump's vacuum: while the dir uses more than max_use, or its filesystem has less
// than keep_free available, the oldest deletable file goes. Only files that some source offers
// are ever deleted; live log files are never offered. Supervision never waits for it: it runs on
// the log writer thread.
class DiskBudget {
 public:
  using FreeBytesFn = std::function<Result<uint64_t>(const std::string& path)>;
  // Lists deletable files. Called on the thread that runs enforce().
  using CandidateSource = std::function<std::vector<BudgetCandidate>()>;

  struct Outcome {
    uint64_t used_bytes = 0;  // after deletions.
    uint64_t free_bytes = 0;  // after deletions; 0 when unknown.
    uint32_t files_deleted = 0;
    uint64_t bytes_deleted = 0;
    bool met = true;
  };

  // The source of rotated log files (<logs_dir>/<unit>/*.log.N) is always registered.
  DiskBudget(std::string state_dir, StorageSpec spec, FreeBytesFn free_bytes = {},
             std::shared_ptr<spdlog::logger> logger = nullptr);

  void setSpec(const StorageSpec& spec) { spec_ = spec; }
  void addSource(CandidateSource source) { sources_.push_back(std::move(source)); }
  Outcome enforce();

  // Rotated log files under <logs_dir>/<unit>/.
  static std::vector<BudgetCandidate> rotatedLogs(const std::string& logs_dir);
  // Bytes of regular files under `dir`, recursively, symlinks not followed.
  static uint64_t usedBytes(const std::string& dir);
  // Bytes available to unprivileged users on the filesystem of `path` (statvfs f_bavail).
  static Result<uint64_t> statvfsFreeBytes(const std::string& path);

 private:
  bool overBudget(uint64_t used, const Result<uint64_t>& available) const;
  spdlog::logger& logger() const;

  std::string state_dir_;
  StorageSpec spec_;
  FreeBytesFn free_bytes_;
  std::shared_ptr<spdlog::logger> logger_;
  std::vector<CandidateSource> sources_;
  bool unmet_logged_ = false;
  bool free_error_logged_ = false;
};

}  // namespace vigie
