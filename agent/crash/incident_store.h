#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "vigie/result.h"
#include "vigie/v1/crash.pb.h"

namespace vigie::crash {

inline constexpr const char* kIncidentFile = "incident.json";
inline constexpr const char* kReportFile = "report.pb";
inline constexpr const char* kCoreFile = "core.zst";

// The incident store on disk, `<state>/crash/` (mode 0700: cores and environments hold
// secrets):
//
//   <id>/incident.json   CrashIncident (JSON), replaced atomically when it changes
//   <id>/report.pb       the helper's CaptureReport, when it came
//   <id>/core.zst        the core, moved (renamed) from the helper's spool
//   .tmp-<id>/           being written or removed: never a record; deleted at load
//
// A record directory is built whole in .tmp-<id>/, fsynced and renamed into place, so a crash
// of vigied at any point leaves either no record or a whole one. Every method does blocking
// disk I/O: call them from the store's worker thread, never from the loop.
class IncidentStore {
 public:
  // `kill_at_for_test`: a step name ("create-before-rename", "update-before-rename") at which
  // the process SIGKILLs itself, for the torn-write tests. Empty in production.
  IncidentStore(std::string dir, std::string spool_dir, std::string kill_at_for_test = "");

  const std::string& dir() const { return dir_; }
  const std::string& spoolDir() const { return spool_dir_; }
  std::string recordDir(const std::string& id) const { return dir_ + "/" + id; }

  Status open();

  struct Loaded {
    std::vector<v1::CrashIncident> incidents;  // sorted by id
    std::vector<std::string> removed_temp;     // half-written records deleted
    std::vector<std::string> unreadable;       // records skipped (and why)
  };
  Loaded load();

  // Spool entries the helper published (capture ids), oldest first.
  std::vector<std::string> listSpool() const;
  Result<v1::CaptureReport> readSpoolReport(const std::string& entry) const;
  void removeSpoolEntry(const std::string& entry) const;

  // Writes a new record; with `adopt_entry`, moves that spool entry's report and core into it
  // (and removes the entry once the record is in place).
  Status create(const v1::CrashIncident& incident, const std::string& adopt_entry);
  // Replaces a record's metadata; with `adopt_entry`, first moves the entry's files in.
  Status update(const v1::CrashIncident& incident, const std::string& adopt_entry);
  Status removeCore(const std::string& id);
  Status remove(const std::string& id);

  // Bytes used by one record's files.
  uint64_t recordBytes(const std::string& id) const;
  // Bytes used by every record (the spool and records being written are not counted).
  uint64_t usedBytes() const;
  struct FsSpace {
    uint64_t total = 0;
    uint64_t available = 0;
  };
  Result<FsSpace> space() const;

 private:
  Status moveEntryFiles(const std::string& entry, const std::string& into) const;
  void maybeKill(const char* step) const;

  std::string dir_;
  std::string spool_dir_;
  std::string kill_at_;
};

std::string incidentToJson(const v1::CrashIncident& incident);
Result<v1::CrashIncident> incidentFromJson(const std::string& json);

}  // namespace vigie::crash
