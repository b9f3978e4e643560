#include "agent/coredump/rate_limit.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "agent/coredump/file_io.h"
#include "agent/os/unique_fd.h"

namespace vigie::coredump {

bool admitCore(std::vector<int64_t>& times, int64_t now, uint32_t burst,
               std::chrono::seconds interval) {
  if (burst == 0) {
    return true;
  }
  const int64_t oldest = now - interval.count();
  times.erase(
      std::remove_if(times.begin(), times.end(), [&](int64_t t) { return t <= oldest || t > now; }),
      times.end());
  if (times.size() >= burst) {
    return false;
  }
  times.push_back(now);
  return true;
}

std::vector<int64_t> parseRateTimes(std::string_view text) {
  std::vector<int64_t> times;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n')) {
      ++i;
    }
    const size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\n') {
      ++i;
    }
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data() + start, text.data() + i, value);
    if (i > start && ec == std::errc() && ptr == text.data() + i) {
      times.push_back(value);
    }
  }
  return times;
}

std::string formatRateTimes(const std::vector<int64_t>& times) {
  std::string text;
  for (const int64_t t : times) {
    text += std::to_string(t) + "\n";
  }
  return text;
}

Result<bool> admitCoreOnDisk(const std::string& state_dir, const std::string& fingerprint,
                             int64_t now, uint32_t burst, std::chrono::seconds interval) {
  if (burst == 0) {
    return true;
  }
  if (auto status = makeDirectories(state_dir, 0700); !status.ok()) {
    return status.error();
  }
  const std::string path = state_dir + "/" + fingerprint;
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) {
    return Error::fromErrno("open " + path);
  }
  if (::flock(fd.get(), LOCK_EX) != 0) {
    return Error::fromErrno("lock " + path);
  }
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = ::pread(fd.get(), buffer, sizeof(buffer), static_cast<off_t>(text.size()))) > 0 &&
         text.size() < 65536) {
    text.append(buffer, static_cast<size_t>(n));
  }
  std::vector<int64_t> times = parseRateTimes(text);
  const bool admitted = admitCore(times, now, burst, interval);
  const std::string updated = formatRateTimes(times);
  if (::ftruncate(fd.get(), 0) == 0) {
    (void)::pwrite(fd.get(), updated.data(), updated.size(), 0);
  }
  return admitted;
}

}  // namespace vigie::coredump
