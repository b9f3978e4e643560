#include "agent/crash/durable_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "agent/os/unique_fd.h"

namespace vigie::crash {
namespace {

Status writeAllTo(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error::fromErrno("write " + path);
    }
    data.remove_prefix(static_cast<size_t>(written));
  }
  return {};
}

Status writeSynced(const std::string& path, std::string_view data, int flags, unsigned mode) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | flags, mode));
  if (!fd) {
    return Error::fromErrno("open " + path);
  }
  if (auto written = writeAllTo(fd.get(), data, path); !written) {
    return written;
  }
  if (::fsync(fd.get()) != 0) {
    return Error::fromErrno("fsync " + path);
  }
  return {};
}

}  // namespace

Status fsyncPath(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return Error::fromErrno("open " + path);
  }
  if (::fsync(fd.get()) != 0) {
    return Error::fromErrno("fsync " + path);
  }
  return {};
}

Status replaceFileDurably(const std::string& dir, const std::string& name, std::string_view data,
                          unsigned mode) {
  const std::string target = dir + "/" + name;
  const std::string tmp = target + ".tmp";
  if (auto written = writeSynced(tmp, data, O_TRUNC, mode); !written) {
    ::unlink(tmp.c_str());
    return written;
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const Error error = Error::fromErrno("rename " + tmp);
    ::unlink(tmp.c_str());
    return error;
  }
  return fsyncPath(dir);
}

Status writeNewFileSynced(const std::string& path, std::string_view data) {
  return writeSynced(path, data, O_EXCL, 0600);
}

Result<std::string> readWholeFile(const std::string& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    return Error::fromErrno("open " + path);
  }
  std::string out;
  char buffer[65536];
  while (out.size() < max_bytes) {
    const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error::fromErrno("read " + path);
    }
    if (got == 0) {
      return out;
    }
    out.append(buffer, static_cast<size_t>(got));
  }
  return Error{path + ": larger than " + std::to_string(max_bytes) + " bytes", EFBIG};
}

Status removeTree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) {
    return Error{"remove " + path + ": " + ec.message(), ec.value()};
  }
  return {};
}

Status makePrivateDir(const std::string& path, unsigned mode) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    return Error{"create " + path + ": " + ec.message(), ec.value()};
  }
  if (::chmod(path.c_str(), mode) != 0) {
    return Error::fromErrno("chmod " + path);
  }
  return {};
}

}  // namespace vigie::crash
