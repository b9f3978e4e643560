#include "agent/coredump/spool_entry.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "agent/coredump/file_io.h"

namespace vigie::coredump {

Result<SpoolEntry> SpoolEntry::create(const std::string& spool_dir, const std::string& id) {
  if (auto status = makeDirectories(spool_dir, 0700); !status.ok()) {
    return status.error();
  }
  SpoolEntry entry;
  entry.spool_dir_ = spool_dir;
  entry.tmp_path_ = spool_dir + "/" + id + ".tmp";
  entry.final_path_ = spool_dir + "/" + id;
  if (::mkdir(entry.tmp_path_.c_str(), 0700) != 0) {
    return Error::fromErrno("mkdir " + entry.tmp_path_);
  }
  entry.dir_fd_.reset(::open(entry.tmp_path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!entry.dir_fd_) {
    const Error error = Error::fromErrno("open " + entry.tmp_path_);
    ::rmdir(entry.tmp_path_.c_str());
    return error;
  }
  return entry;
}

SpoolEntry::~SpoolEntry() {
  if (!committed_ && !tmp_path_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(tmp_path_, ec);
  }
}

Result<UniqueFd> SpoolEntry::createScratchFile() const {
  UniqueFd fd(::openat(dir_fd_.get(), ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (fd) {
    return fd;
  }
  // Filesystems without O_TMPFILE: a named file, unlinked at once.
  const char* name = "core.raw";
  fd.reset(::openat(dir_fd_.get(), name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600));
  if (!fd) {
    return Error::fromErrno("create scratch core in " + tmp_path_);
  }
  ::unlinkat(dir_fd_.get(), name, 0);
  return fd;
}

Result<UniqueFd> SpoolEntry::createFile(const char* name) const {
  UniqueFd fd(::openat(dir_fd_.get(), name, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600));
  if (!fd) {
    return Error::fromErrno("create " + tmp_path_ + "/" + name);
  }
  return fd;
}

Status SpoolEntry::writeReport(const v1::CaptureReport& report) const {
  std::string bytes;
  if (!report.SerializeToString(&bytes)) {
    return Error{"report: serialization failed"};
  }
  auto fd = createFile(kReportFile);
  if (!fd.ok()) {
    return fd.error();
  }
  if (auto status = writeAll(fd->get(), bytes); !status.ok()) {
    removeFile(kReportFile);
    return Error{"write report: " + status.error().message, status.error().errno_value};
  }
  if (::fsync(fd->get()) != 0) {
    const Error error = Error::fromErrno("fsync report");
    removeFile(kReportFile);
    return error;
  }
  return {};
}

void SpoolEntry::removeFile(const char* name) const {
  ::unlinkat(dir_fd_.get(), name, 0);
}

Status SpoolEntry::commit() {
  if (::fsync(dir_fd_.get()) != 0) {
    return Error::fromErrno("fsync " + tmp_path_);
  }
  if (::rename(tmp_path_.c_str(), final_path_.c_str()) != 0) {
    return Error::fromErrno("rename " + tmp_path_);
  }
  committed_ = true;
  UniqueFd spool(::open(spool_dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (spool) {
    (void)::fsync(spool.get());
  }
  return {};
}

}  // namespace vigie::coredump
