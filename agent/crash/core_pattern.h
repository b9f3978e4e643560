#pragma once

#include <optional>
#include <string>

#include "vigie/result.h"

namespace vigie::crash {

inline constexpr const char* kKernelCorePattern = "/proc/sys/kernel/core_pattern";
// The kernel keeps at most 127 bytes of a pattern (CORENAME_MAX_SIZE) and cuts the rest
// without a word.
inline constexpr size_t kCorePatternMax = 127;

// `|HELPER [-c CONFIG] %P %i %s %t %c %h`; `-c` only when CONFIG is not the helper's default.
std::string buildCorePattern(const std::string& helper, const std::string& helper_config);

// Owns vigie's use of the host-wide core_pattern: installs vigie's pipe pattern, keeps the
// previous one in `saved_file` (under the state dir) until it is restored, and tells whether
// someone else rewrote the pattern since. The file paths are parameters so that tests can use
// plain files.
class CorePatternManager {
 public:
  CorePatternManager(std::string pattern_file, std::string saved_file, std::string ours);

  // A saved file left by a vigied that died without restoring: its content is the host's real
  // pattern. Writes it back and removes the file (the next install saves it again). Returns the
  // pattern restored, if there was one.
  Result<std::optional<std::string>> restoreLeftover();
  // Saves the current pattern (unless it is already ours), writes ours and reads it back.
  Status install();
  // Writes the saved pattern back and removes the saved file. No-op when nothing was saved.
  Status restore();
  // Someone else rewrote the pattern: theirs stays, and the saved one is dropped.
  void abandon();
  // Whether the pattern in the kernel is not ours anymore (re-read each time).
  Result<bool> drifted() const;
  Result<std::string> current() const;

  const std::string& ours() const { return ours_; }
  // The pattern in place before vigie's (empty when unknown or when it was ours).
  const std::string& previous() const { return previous_; }
  bool installed() const { return installed_; }

 private:
  Status writePattern(const std::string& pattern) const;

  std::string pattern_file_;
  std::string saved_file_;
  std::string ours_;
  std::string previous_;
  bool installed_ = false;
};

}  // namespace vigie::crash
