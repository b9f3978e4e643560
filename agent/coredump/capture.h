#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "agent/coredump/compress_child.h"
#include "agent/coredump/core_drain.h"
#include "agent/coredump/forwarder.h"
#include "agent/coredump/helper_args.h"
#include "agent/coredump/helper_config.h"
#include "agent/coredump/proc_reader.h"
#include "agent/coredump/spool_entry.h"
#include "agent/os/unique_fd.h"
#include "vigie/v1/crash.pb.h"

namespace vigie::coredump {

// One crash, from the kernel's call to the spool entry. Two stages, because the crashed
// process waits for the first one only:
//  1. collect(): /proc/PID, then the core from stdin into a scratch file in the spool entry;
//  2. finish(): after the helper has let the kernel go (detach), symbolize and compress side
//     by side, fingerprint, write the entry atomically and tell vigied.
// Nothing here throws or exits; every failure becomes an error in the report.
class Capture {
 public:
  Capture(HelperArgs args, LoadedConfig config);

  // Stage 1. Reads the core from `core_fd` (the kernel's pipe) unless the process opted out
  // of cores; the caller closes `core_fd` right after.
  void collect(int core_fd);
  // Stage 2, bounded by capture_timeout.
  void finish();

  const v1::CaptureReport& report() const { return report_; }
  // Where the entry was published, empty when it could not be written.
  const std::string& entryPath() const { return entry_path_; }

 private:
  void addError(const std::string& stage, const std::string& message);
  void addWarning(const std::string& stage, const std::string& message);
  void drain(int core_fd);
  bool readCoreHead();  // false when the core is not an ELF core
  void symbolize(std::chrono::steady_clock::time_point deadline);
  // Starts compressing the core into core.zst while the symbolizer runs.
  void startCompression(std::chrono::steady_clock::time_point deadline);
  // Keeps the core (waits for its compression) unless the rate limit says no.
  void storeCore(std::chrono::steady_clock::time_point deadline);
  void dropCompression();
  void decideOutcome();
  void publish();

  HelperArgs args_;
  HelperConfig config_;
  v1::CaptureReport report_;
  ProcessCapture process_;
  std::optional<SpoolEntry> entry_;
  UniqueFd scratch_;  // the raw core (unnamed file in the entry)
  DrainResult drained_;
  std::optional<CompressChild> compression_;  // running next to the symbolizer
  UniqueFd core_out_;                         // core.zst, being written by compression_
  std::chrono::steady_clock::time_point compress_started_;
  bool core_pending_ = false;  // a whole core is in scratch_, to be stored if allowed
  bool timed_out_ = false;
  std::string entry_path_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace vigie::coredump
