#include "agent/os/proc_stat.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstring>
#include <string>

#include "agent/os/unique_fd.h"

namespace vigie {

std::optional<uint64_t> readProcStartTicks(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return std::nullopt;
  }
  std::array<char, 1024> buf{};
  const ssize_t n = ::read(fd.get(), buf.data(), buf.size() - 1);
  if (n <= 0) {
    return std::nullopt;
  }
  // The command name (field 2) may hold spaces and parentheses: count from its last ')'.
  const char* p = static_cast<const char*>(memrchr(buf.data(), ')', static_cast<size_t>(n)));
  if (p == nullptr) {
    return std::nullopt;
  }
  const char* end = buf.data() + n;
  // After ") " comes field 3; field 22 is 19 spaces further.
  int field = 2;
  for (++p; p < end && field < 22; ++p) {
    if (*p == ' ') {
      ++field;
    }
  }
  uint64_t ticks = 0;
  auto [ptr, ec] = std::from_chars(p, end, ticks);
  if (ec != std::errc()) {
    return std::nullopt;
  }
  return ticks;
}

std::vector<pid_t> readChildren(const std::string& children_file) {
  std::vector<pid_t> children;
  UniqueFd fd(::open(children_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return children;
  }
  std::string text;
  std::array<char, 4096> buf;
  ssize_t n = 0;
  while ((n = ::read(fd.get(), buf.data(), buf.size())) > 0) {
    text.append(buf.data(), static_cast<size_t>(n));
  }
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    pid_t pid = 0;
    auto [next, ec] = std::from_chars(p, end, pid);
    if (ec == std::errc() && pid > 0) {
      children.push_back(pid);
    }
    p = next + 1;
  }
  return children;
}

}  // namespace vigie
