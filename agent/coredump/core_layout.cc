#include "agent/coredump/core_layout.h"

#include <elf.h>
#include <signal.h>
#include <sys/procfs.h>
#include <sys/user.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace vigie::coredump {
namespace {

template <class T>
bool readAt(std::string_view bytes, uint64_t offset, T& out) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) {
    return false;
  }
  std::memcpy(&out, bytes.data() + offset, sizeof(T));
  return true;
}

uint64_t align4(uint64_t value) {
  return (value + 3) & ~uint64_t{3};
}

bool isElf64Core(const Elf64_Ehdr& header) {
  return std::memcmp(header.e_ident, ELFMAG, SELFMAG) == 0 &&
         header.e_ident[EI_CLASS] == ELFCLASS64 && header.e_ident[EI_DATA] == ELFDATA2LSB &&
         header.e_type == ET_CORE && header.e_phentsize == sizeof(Elf64_Phdr);
}

CoreThread threadFromPrstatus(const elf_prstatus& status) {
  CoreThread thread;
  thread.tid = status.pr_pid;
#if defined(__x86_64__)
  user_regs_struct regs{};
  static_assert(sizeof(regs) <= sizeof(status.pr_reg));
  std::memcpy(&regs, &status.pr_reg, sizeof(regs));
  thread.sp = regs.rsp;
  thread.pc = regs.rip;
  thread.has_registers = true;
#elif defined(__aarch64__)
  user_regs_struct regs{};
  static_assert(sizeof(regs) <= sizeof(status.pr_reg));
  std::memcpy(&regs, &status.pr_reg, sizeof(regs));
  thread.sp = regs.sp;
  thread.pc = regs.pc;
  thread.has_registers = true;
#endif
  return thread;
}

void parseNotes(std::string_view notes, CoreLayout& layout) {
  uint64_t at = 0;
  while (at + sizeof(Elf64_Nhdr) <= notes.size()) {
    Elf64_Nhdr note{};
    readAt(notes, at, note);
    const uint64_t name_at = at + sizeof(Elf64_Nhdr);
    const uint64_t desc_at = name_at + align4(note.n_namesz);
    const uint64_t next = desc_at + align4(note.n_descsz);
    if (next > notes.size() || next <= at) {
      break;
    }
    const std::string_view desc = notes.substr(desc_at, note.n_descsz);
    if (note.n_type == NT_PRSTATUS && desc.size() >= sizeof(elf_prstatus)) {
      elf_prstatus status{};
      std::memcpy(&status, desc.data(), sizeof(status));
      layout.threads.push_back(threadFromPrstatus(status));
    } else if (note.n_type == NT_SIGINFO && desc.size() >= sizeof(siginfo_t)) {
      siginfo_t info{};
      std::memcpy(&info, desc.data(), sizeof(info));
      CoreSignal signal;
      signal.signo = info.si_signo;
      signal.code = info.si_code;
      if (info.si_signo == SIGSEGV || info.si_signo == SIGBUS || info.si_signo == SIGILL ||
          info.si_signo == SIGFPE) {
        signal.address = reinterpret_cast<uint64_t>(info.si_addr);
      }
      layout.signal = signal;
    }
    at = next;
  }
}

}  // namespace

uint64_t coreHeadersSize(std::string_view head) {
  Elf64_Ehdr header{};
  if (!readAt(head, 0, header) || !isElf64Core(header)) {
    return 0;
  }
  return header.e_phoff + uint64_t{header.e_phnum} * sizeof(Elf64_Phdr);
}

Result<CoreLayout> parseCoreLayout(std::string_view head) {
  Elf64_Ehdr header{};
  if (!readAt(head, 0, header)) {
    return Error{"core: shorter than an ELF header (" + std::to_string(head.size()) + " bytes)"};
  }
  if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) {
    return Error{"core: not an ELF file"};
  }
  if (!isElf64Core(header)) {
    return Error{"core: not a 64-bit little-endian ELF core"};
  }
  CoreLayout layout;
  layout.headers_end = header.e_phoff + uint64_t{header.e_phnum} * sizeof(Elf64_Phdr);
  for (uint16_t i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr phdr{};
    if (!readAt(head, header.e_phoff + uint64_t{i} * sizeof(Elf64_Phdr), phdr)) {
      return Error{"core: program headers cut short"};
    }
    layout.expected_size = std::max(layout.expected_size, phdr.p_offset + phdr.p_filesz);
    if (phdr.p_type == PT_LOAD) {
      layout.loads.push_back({phdr.p_vaddr, phdr.p_memsz, phdr.p_offset, phdr.p_filesz});
    } else if (phdr.p_type == PT_NOTE) {
      layout.headers_end = std::max(layout.headers_end, phdr.p_offset + phdr.p_filesz);
      if (phdr.p_offset < head.size()) {
        const uint64_t available = std::min<uint64_t>(phdr.p_filesz, head.size() - phdr.p_offset);
        parseNotes(head.substr(phdr.p_offset, available), layout);
      }
    }
  }
  std::sort(layout.loads.begin(), layout.loads.end(),
            [](const CoreSegment& a, const CoreSegment& b) { return a.offset < b.offset; });
  return layout;
}

std::vector<FileRange> unwindRangesPast(const CoreLayout& layout, uint64_t limit, uint64_t budget) {
  // Small segments: ELF headers (one page per mapped file), .data and .bss of libraries, the
  // dynamic linker's link map. Stacks: the unwinder reads upwards from the stack pointer.
  constexpr uint64_t kSmallSegment = 64 * 1024;
  constexpr uint64_t kBelowStackPointer = 4096;
  constexpr uint64_t kStackKeep = 4 * 1024 * 1024;

  std::vector<FileRange> ranges;
  uint64_t used = 0;
  for (const auto& segment : layout.loads) {
    if (segment.filesz == 0) {
      continue;
    }
    FileRange range{segment.offset, segment.offset + segment.filesz};
    bool keep = segment.filesz <= kSmallSegment;
    for (const auto& thread : layout.threads) {
      if (!thread.has_registers || thread.sp < segment.vaddr ||
          thread.sp >= segment.vaddr + segment.filesz) {
        continue;
      }
      const uint64_t from = std::max(segment.vaddr, thread.sp - kBelowStackPointer);
      const uint64_t begin = segment.offset + (from - segment.vaddr);
      const uint64_t end = std::min(range.end, begin + kStackKeep);
      if (!keep) {
        range = {begin, end};
        keep = true;
      } else {
        range.begin = std::min(range.begin, begin);
      }
    }
    if (!keep) {
      continue;
    }
    range.begin = std::max(range.begin, limit);
    if (range.begin >= range.end) {
      continue;
    }
    const uint64_t size = range.end - range.begin;
    if (used + size > budget) {
      continue;
    }
    used += size;
    ranges.push_back(range);
  }
  return ranges;
}

}  // namespace vigie::coredump
