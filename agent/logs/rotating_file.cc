#include "agent/logs/rotating_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

namespace vigie {

namespace {

// Readable by the group: operators in the agent's group may read workload logs.
constexpr mode_t kLogFileMode = 0640;

Status ignoreMissing(int r, const std::string& what) {
  if (r != 0 && errno != ENOENT) {
    return Error::fromErrno(what);
  }
  return Status::okStatus();
}

}  // namespace

RotatingFile::RotatingFile(std::string dir, std::string name, Limits limits)
    : dir_(std::move(dir)), name_(std::move(name)) {
  setLimits(limits);
}

void RotatingFile::setLimits(Limits limits) {
  // A zero size could never take a byte; zero files could not hold the live one.
  limits_.max_size = std::max<uint64_t>(limits.max_size, 1);
  limits_.max_files = std::max<uint32_t>(limits.max_files, 1);
  if (fd_ && size_ > limits_.max_size) {
    fd_.reset();  // reopened at the next append, which rotates it first.
  }
}

std::string RotatingFile::livePath() const {
  return dir_ + "/" + name_ + ".log";
}

std::string RotatingFile::rotatedPath(uint32_t index) const {
  return livePath() + "." + std::to_string(index);
}

RotatingFile::Outcome RotatingFile::append(std::string_view data) {
  Outcome outcome;
  auto fail = [&](Status status) {
    outcome.error = status.error();
    fd_.reset();  // the next append starts over: the directory may have been fixed meanwhile.
    return outcome;
  };
  if (Status opened = ensureOpen(); !opened) {
    return fail(std::move(opened));
  }
  while (!data.empty()) {
    if (size_ >= limits_.max_size) {
      if (Status rotated = rotate(); !rotated) {
        return fail(std::move(rotated));
      }
      ++outcome.rotations;
    }
    const uint64_t room = limits_.max_size - size_;
    if (data.size() <= room) {
      if (Status written = writeAll(data, outcome); !written) {
        return fail(std::move(written));
      }
      return outcome;
    }
    // Keep lines whole where possible: fill this file up to its last complete line, and cut a
    // line only when it would not fit even in an empty file.
    const size_t newline = data.substr(0, room).rfind('\n');
    size_t take = 0;
    if (newline != std::string_view::npos) {
      take = newline + 1;
    } else if (size_ == 0) {
      take = room;
    }
    if (take > 0) {
      if (Status written = writeAll(data.substr(0, take), outcome); !written) {
        return fail(std::move(written));
      }
      data.remove_prefix(take);
    }
    size_ = limits_.max_size;  // full as far as this data is concerned: rotate before more.
  }
  return outcome;
}

Status RotatingFile::ensureOpen() {
  if (fd_) {
    return Status::okStatus();
  }
  const std::string path = livePath();
  const int flags = O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY;
  UniqueFd fd(::open(path.c_str(), flags, kLogFileMode));
  if (!fd && errno == ENOENT) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) {
      return Error{"create " + dir_ + ": " + ec.message(), ec.value()};
    }
    fd.reset(::open(path.c_str(), flags, kLogFileMode));
  }
  if (!fd) {
    return Error::fromErrno("open " + path);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Error::fromErrno("stat " + path);
  }
  size_ = static_cast<uint64_t>(st.st_size);
  at_line_start_ = true;
  if (size_ > 0) {
    char last = '\n';
    if (::pread(fd.get(), &last, 1, st.st_size - 1) == 1) {
      at_line_start_ = last == '\n';
    }
  }
  fd_ = std::move(fd);
  return Status::okStatus();
}

Status RotatingFile::writeAll(std::string_view data, Outcome& outcome) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd_.get(), data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error::fromErrno("write " + livePath());
    }
    const auto written = static_cast<size_t>(n);
    size_ += written;
    outcome.bytes_written += written;
    at_line_start_ = data[written - 1] == '\n';
    data.remove_prefix(written);
  }
  return Status::okStatus();
}

Status RotatingFile::rotate() {
  fd_.reset();
  const std::string live = livePath();
  if (limits_.max_files == 1) {
    if (Status removed = ignoreMissing(::unlink(live.c_str()), "unlink " + live); !removed) {
      return removed;
    }
    return ensureOpen();
  }
  // Drop the oldest, and anything beyond max_files left by a larger setting before a reload.
  for (uint32_t index = limits_.max_files - 1;; ++index) {
    const std::string path = rotatedPath(index);
    if (::unlink(path.c_str()) != 0) {
      if (errno == ENOENT) {
        break;
      }
      return Error::fromErrno("unlink " + path);
    }
  }
  for (uint32_t index = limits_.max_files - 2; index >= 1; --index) {
    const std::string from = rotatedPath(index);
    const std::string to = rotatedPath(index + 1);
    if (Status moved = ignoreMissing(::rename(from.c_str(), to.c_str()), "rename " + from);
        !moved) {
      return moved;
    }
  }
  // A live file deleted behind our back has nothing to rotate: start a new one.
  const std::string newest = rotatedPath(1);
  if (Status moved = ignoreMissing(::rename(live.c_str(), newest.c_str()), "rename " + live);
      !moved) {
    return moved;
  }
  return ensureOpen();
}

}  // namespace vigie
