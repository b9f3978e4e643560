// Finding a static init (tini, catatonit) on the host for `init: true`: it is bind-mounted into
// containers whose root filesystems have none of its libraries, so it must have no program
// interpreter (PT_INTERP), which is what "statically linked" means to the kernel's ELF loader.
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "agent/os/unique_fd.h"
#include "agent/runtime/oci_config.h"

namespace vigie {
namespace {

bool readAt(int fd, void* buffer, size_t size, off_t offset) {
  return ::pread(fd, buffer, size, offset) == static_cast<ssize_t>(size);
}

// Why the ELF file behind `fd` cannot serve as a static init, or nullopt when it can.
template <class Ehdr, class Phdr>
std::optional<std::string> checkProgramHeaders(int fd) {
  Ehdr header{};
  if (!readAt(fd, &header, sizeof(header), 0)) {
    return "truncated ELF header";
  }
  if (header.e_type != ET_EXEC && header.e_type != ET_DYN) {
    return "not an ELF executable";
  }
  if (header.e_phentsize != sizeof(Phdr)) {
    return "unexpected program header size";
  }
  for (unsigned i = 0; i < header.e_phnum; ++i) {
    Phdr program{};
    if (!readAt(fd, &program, sizeof(program),
                static_cast<off_t>(header.e_phoff + uint64_t{i} * sizeof(Phdr)))) {
      return "truncated program headers";
    }
    if (program.p_type == PT_INTERP) {
      return "dynamically linked";
    }
  }
  return std::nullopt;
}

std::optional<std::string> whyNotStaticInit(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return errno == ENOENT ? std::string("missing") : std::string(std::strerror(errno));
  }
  if (!S_ISREG(info.st_mode)) {
    return "not a regular file";
  }
  if ((info.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0) {
    return "not executable";
  }
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return std::string(std::strerror(errno));
  }
  unsigned char ident[EI_NIDENT] = {};
  if (!readAt(fd.get(), ident, sizeof(ident), 0) || std::memcmp(ident, ELFMAG, SELFMAG) != 0) {
    return "not an ELF file";
  }
  if (ident[EI_CLASS] == ELFCLASS64) {
    return checkProgramHeaders<Elf64_Ehdr, Elf64_Phdr>(fd.get());
  }
  if (ident[EI_CLASS] == ELFCLASS32) {
    return checkProgramHeaders<Elf32_Ehdr, Elf32_Phdr>(fd.get());
  }
  return "unknown ELF class";
}

}  // namespace

Result<std::string> findStaticInit() {
  return findStaticInit({"/usr/bin/tini-static", "/usr/bin/catatonit"});
}

Result<std::string> findStaticInit(const std::vector<std::string>& candidates) {
  std::string tried;
  for (const std::string& candidate : candidates) {
    const std::optional<std::string> problem = whyNotStaticInit(candidate);
    if (!problem) {
      return candidate;
    }
    tried += (tried.empty() ? "" : ", ") + candidate + " (" + *problem + ")";
  }
  return Error{
      "no static init found: tried " + (tried.empty() ? "nothing" : tried) + "; install tini",
      ENOENT};
}

}  // namespace vigie
