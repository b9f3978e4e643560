#include "agent/coredump/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "agent/os/unique_fd.h"

namespace vigie::coredump {

Result<std::string> readSmallFile(int dir_fd, const char* name, size_t max_bytes) {
  UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    return Error::fromErrno(std::string("open ") + name);
  }
  std::string text;
  char buffer[16384];
  while (text.size() < max_bytes) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return Error::fromErrno(std::string("read ") + name);
    }
    if (n == 0) {
      break;
    }
    text.append(buffer, std::min(static_cast<size_t>(n), max_bytes - text.size()));
  }
  return text;
}

Result<std::string> readLinkAt(int dir_fd, const char* name) {
  std::string target(4096, '\0');
  const ssize_t n = ::readlinkat(dir_fd, name, target.data(), target.size());
  if (n < 0) {
    return Error::fromErrno(std::string("readlink ") + name);
  }
  target.resize(static_cast<size_t>(n));
  return target;
}

Status writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return Error::fromErrno("write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Status makeDirectories(const std::string& path, unsigned mode) {
  if (path.empty()) {
    return Error{"empty directory path"};
  }
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    const std::string prefix = path.substr(0, slash);
    if (::mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST) {
      return Error::fromErrno("mkdir " + prefix);
    }
    if (slash == std::string::npos) {
      break;
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Error::fromErrno("stat " + path);
  }
  if (!S_ISDIR(st.st_mode)) {
    return Error{path + " is not a directory"};
  }
  return {};
}

}  // namespace vigie::coredump
