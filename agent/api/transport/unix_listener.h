#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "agent/os/unique_fd.h"
#include "vigie/result.h"

namespace vigie {

// The file of a bound unix socket. Removed on destruction, but only while it is still the file
// this agent bound (same device and inode): a file someone else put there since is left alone.
class UnixSocketFile {
 public:
  UnixSocketFile() = default;
  UnixSocketFile(std::string path, dev_t device, ino_t inode)
      : path_(std::move(path)), device_(device), inode_(inode) {}
  UnixSocketFile(UnixSocketFile&& other) noexcept;
  UnixSocketFile& operator=(UnixSocketFile&& other) noexcept;
  UnixSocketFile(const UnixSocketFile&) = delete;
  UnixSocketFile& operator=(const UnixSocketFile&) = delete;
  ~UnixSocketFile() { remove(); }

  const std::string& path() const { return path_; }
  void remove();

 private:
  std::string path_;  // "" once removed.
  dev_t device_ = 0;
  ino_t inode_ = 0;
};

struct UnixListener {
  UniqueFd fd;  // listening, non-blocking, close-on-exec.
  UnixSocketFile file;
};

// Listens on `path` with file mode 0660 and, when given, group `group`. Creates the parent
// directory. A socket file nobody listens on (left by a killed agent) is replaced; one that
// something listens on, or a file that is not a socket, is an error that says so.
Result<UnixListener> listenOnUnixSocket(const std::string& path, std::optional<gid_t> group);

}  // namespace vigie
