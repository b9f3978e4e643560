#pragma once

#include <string>

#include "agent/os/unique_fd.h"
#include "vigie/result.h"
#include "vigie/v1/crash.pb.h"

namespace vigie::coredump {

inline constexpr const char* kReportFile = "report.pb";
inline constexpr const char* kCoreFile = "core.zst";

// One capture's spool entry, built in `<spool>/<id>.tmp/` (mode 0700: cores and environments
// hold secrets) and published by renaming it to `<spool>/<id>/` once its files are synced, so
// that a reader never sees half an entry. An entry never committed is removed by the
// destructor.
class SpoolEntry {
 public:
  // Creates the spool directory if needed, then the entry's temporary directory.
  static Result<SpoolEntry> create(const std::string& spool_dir, const std::string& id);

  SpoolEntry(SpoolEntry&&) noexcept = default;
  SpoolEntry& operator=(SpoolEntry&&) noexcept = default;
  ~SpoolEntry();

  int dirFd() const { return dir_fd_.get(); }
  const std::string& tmpPath() const { return tmp_path_; }
  const std::string& finalPath() const { return final_path_; }

  // An unnamed file in the entry's directory (O_TMPFILE): the raw core lives there while it is
  // symbolized and compressed, and vanishes with the helper whatever happens.
  Result<UniqueFd> createScratchFile() const;
  // A new file in the entry (0600).
  Result<UniqueFd> createFile(const char* name) const;
  // Writes report.pb and syncs it.
  Status writeReport(const v1::CaptureReport& report) const;
  // Removes a file of the entry (a partial core.zst).
  void removeFile(const char* name) const;
  // fsyncs the directory, renames it into place, fsyncs the spool directory.
  Status commit();

 private:
  SpoolEntry() = default;

  std::string spool_dir_;
  std::string tmp_path_;
  std::string final_path_;
  UniqueFd dir_fd_;
  bool committed_ = false;
};

}  // namespace vigie::coredump
