#include "agent/cgroup/cgroup_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

namespace vigie {

UniqueFd openCgroupFile(int dir_fd, const std::string& name, int flags) {
  return UniqueFd(::openat(dir_fd, name.c_str(), flags | O_CLOEXEC));
}

Result<std::string> readCgroupFile(int fd) {
  std::string out;
  char buffer[4096];
  off_t offset = 0;
  while (true) {
    const ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error::fromErrno("read");
    }
    if (n == 0) {
      return out;
    }
    out.append(buffer, static_cast<size_t>(n));
    offset += n;
    if (static_cast<size_t>(n) < sizeof buffer) {
      // cgroupfs hands a small file over in one read: no second system call to see EOF.
      return out;
    }
  }
}

Status writeCgroupFile(int fd, std::string_view text) {
  while (true) {
    const ssize_t n = ::pwrite(fd, text.data(), text.size(), 0);
    if (n >= 0) {
      return Status::okStatus();
    }
    if (errno != EINTR) {
      return Error::fromErrno("write");
    }
  }
}

Status writeCgroupFileAt(int dir_fd, const std::string& name, std::string_view text) {
  // O_TRUNC as a shell's ">" does: cgroupfs ignores it, a plain file (tests) needs it.
  UniqueFd fd = openCgroupFile(dir_fd, name, O_WRONLY | O_TRUNC);
  if (!fd) {
    return Error::fromErrno("open " + name);
  }
  if (Status written = writeCgroupFile(fd.get(), text); !written) {
    return Error{"write \"" + std::string(text) + "\" to " + name + ": " +
                     std::strerror(written.error().errno_value),
                 written.error().errno_value};
  }
  return Status::okStatus();
}

Result<std::string> readCgroupFileAt(int dir_fd, const std::string& name) {
  UniqueFd fd = openCgroupFile(dir_fd, name, O_RDONLY);
  if (!fd) {
    return Error::fromErrno("open " + name);
  }
  return readCgroupFile(fd.get());
}

std::optional<uint64_t> parseKeyedValue(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ' ') {
      return parseSingleValue(line.substr(key.size() + 1));
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> parseSingleValue(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::vector<std::string> parseWords(std::string_view text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t')) {
      ++i;
    }
    const size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\n' && text[i] != '\t') {
      ++i;
    }
    if (i > start) {
      words.emplace_back(text.substr(start, i - start));
    }
  }
  return words;
}

std::vector<pid_t> parsePids(std::string_view text) {
  std::vector<pid_t> pids;
  for (const std::string& word : parseWords(text)) {
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), pid);
    if (ec == std::errc() && end == word.data() + word.size() && pid > 0) {
      pids.push_back(pid);
    }
  }
  return pids;
}

}  // namespace vigie
