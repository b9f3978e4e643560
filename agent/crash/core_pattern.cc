#include "agent/crash/core_pattern.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "agent/coredump/helper_config.h"
#include "agent/crash/durable_files.h"
#include "agent/os/unique_fd.h"

namespace vigie::crash {
namespace {

std::string trimNewline(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) {
    text.pop_back();
  }
  return text;
}

}  // namespace

std::string buildCorePattern(const std::string& helper, const std::string& helper_config) {
  std::string pattern = "|" + helper;
  if (!helper_config.empty() && helper_config != coredump::kDefaultConfigPath) {
    pattern += " -c " + helper_config;
  }
  return pattern + " %P %i %s %t %c %h";
}

CorePatternManager::CorePatternManager(std::string pattern_file, std::string saved_file,
                                       std::string ours)
    : pattern_file_(std::move(pattern_file)),
      saved_file_(std::move(saved_file)),
      ours_(std::move(ours)) {}

Result<std::string> CorePatternManager::current() const {
  auto text = readWholeFile(pattern_file_, 4096);
  if (!text) {
    return text.error();
  }
  return trimNewline(std::move(*text));
}

Status CorePatternManager::writePattern(const std::string& pattern) const {
  // O_TRUNC without O_CREAT: the sysctl file exists; a plain file in tests too.
  UniqueFd fd(::open(pattern_file_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd) {
    return Error::fromErrno("open " + pattern_file_);
  }
  const ssize_t written = ::write(fd.get(), pattern.data(), pattern.size());
  if (written < 0) {
    return Error::fromErrno("write " + pattern_file_);
  }
  if (static_cast<size_t>(written) != pattern.size()) {
    return Error{"short write to " + pattern_file_, EIO};
  }
  return {};
}

Result<std::optional<std::string>> CorePatternManager::restoreLeftover() {
  std::error_code ec;
  if (!std::filesystem::exists(saved_file_, ec)) {
    return std::optional<std::string>{};
  }
  auto saved = readWholeFile(saved_file_, 4096);
  if (!saved) {
    return saved.error();
  }
  const std::string pattern = trimNewline(std::move(*saved));
  if (auto written = writePattern(pattern); !written) {
    return written.error();
  }
  ::unlink(saved_file_.c_str());
  return std::optional<std::string>{pattern};
}

Status CorePatternManager::install() {
  if (ours_.size() > kCorePatternMax) {
    return Error{"core_pattern " + ours_ + " is " + std::to_string(ours_.size()) +
                     " bytes; the kernel keeps " + std::to_string(kCorePatternMax) +
                     ": use a shorter crash.helper or crash.helper_config path",
                 ENAMETOOLONG};
  }
  auto before = current();
  if (!before) {
    return before.error();
  }
  if (*before != ours_) {
    previous_ = *before;
    const auto slash = saved_file_.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : saved_file_.substr(0, slash);
    const std::string name =
        slash == std::string::npos ? saved_file_ : saved_file_.substr(slash + 1);
    if (auto saved = replaceFileDurably(dir, name, previous_ + "\n"); !saved) {
      return saved;
    }
  }
  if (auto written = writePattern(ours_); !written) {
    return written;
  }
  auto after = current();
  if (!after) {
    return after.error();
  }
  if (*after != ours_) {
    return Error{"core_pattern reads back as \"" + *after + "\" after writing \"" + ours_ + "\"",
                 EIO};
  }
  installed_ = true;
  return {};
}

Status CorePatternManager::restore() {
  if (!installed_) {
    return {};
  }
  installed_ = false;
  auto restored = restoreLeftover();
  if (!restored) {
    return restored.error();
  }
  return {};
}

void CorePatternManager::abandon() {
  installed_ = false;
  ::unlink(saved_file_.c_str());
}

Result<bool> CorePatternManager::drifted() const {
  auto now = current();
  if (!now) {
    return now.error();
  }
  return *now != ours_;
}

}  // namespace vigie::crash
