#include "agent/api/transport/unix_listener.h"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

namespace vigie {
namespace {

constexpr mode_t kSocketMode = 0660;

Result<sockaddr_un> socketAddress(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path) {
    return Error{
        fmt::format("cannot use \"{}\" as the API socket: a unix socket path has 1 to {} "
                    "bytes",
                    path, sizeof address.sun_path - 1)};
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  return address;
}

// What is at `path` now: nothing, a socket that nothing listens on (removed here), or an error.
Status clearStaleSocket(const std::string& path, const sockaddr_un& address) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) {
    return errno == ENOENT ? Status() : Status(Error::fromErrno("cannot stat " + path));
  }
  if (!S_ISSOCK(info.st_mode)) {
    return Error{
        fmt::format("{} exists and is not a socket; remove it or set api.socket to "
                    "another path",
                    path)};
  }
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!probe) {
    return Error::fromErrno("socket(AF_UNIX)");
  }
  if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 ||
      errno == EAGAIN) {
    return Error{
        fmt::format("another process (another vigied?) is already listening on {}; stop "
                    "it or set api.socket to another path",
                    path)};
  }
  if (errno != ECONNREFUSED) {
    return Error::fromErrno("cannot check whether something listens on " + path);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Error::fromErrno("cannot remove the stale socket " + path);
  }
  return Status();
}

}  // namespace

UnixSocketFile::UnixSocketFile(UnixSocketFile&& other) noexcept
    : path_(std::exchange(other.path_, std::string())),
      device_(other.device_),
      inode_(other.inode_) {}

UnixSocketFile& UnixSocketFile::operator=(UnixSocketFile&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::exchange(other.path_, std::string());
    device_ = other.device_;
    inode_ = other.inode_;
  }
  return *this;
}

void UnixSocketFile::remove() {
  if (path_.empty()) {
    return;
  }
  struct stat info {};
  if (::lstat(path_.c_str(), &info) == 0 && info.st_dev == device_ && info.st_ino == inode_) {
    ::unlink(path_.c_str());
  }
  path_.clear();
}

Result<UnixListener> listenOnUnixSocket(const std::string& path, std::optional<gid_t> group) {
  Result<sockaddr_un> address = socketAddress(path);
  if (!address) {
    return address.error();
  }
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) {
    return Error{fmt::format("cannot create the directory {} for the API socket: {}",
                             parent.string(), ec.message()),
                 ec.value()};
  }
  if (Status cleared = clearStaleSocket(path, *address); !cleared) {
    return cleared.error();
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    return Error::fromErrno("socket(AF_UNIX)");
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof *address) != 0) {
    return Error::fromErrno("cannot bind " + path);
  }
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) {
    return Error::fromErrno("cannot stat " + path);
  }
  UnixSocketFile file(path, info.st_dev, info.st_ino);
  // Mode and group are set before listen(): until then every connect() is refused, so no peer
  // ever sees the socket with bind's default mode.
  if (::chmod(path.c_str(), kSocketMode) != 0) {
    return Error::fromErrno("cannot chmod " + path);
  }
  if (group && ::chown(path.c_str(), static_cast<uid_t>(-1), *group) != 0) {
    return Error::fromErrno(fmt::format("cannot give {} to group {}", path, *group));
  }
  if (::listen(fd.get(), SOMAXCONN) != 0) {
    return Error::fromErrno("cannot listen on " + path);
  }
  return UnixListener{std::move(fd), std::move(file)};
}

}  // namespace vigie
