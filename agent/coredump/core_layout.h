#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "vigie/result.h"

namespace vigie::coredump {

// What the head of an ELF core file says about the rest: its segments, its threads' registers
// and the signal. Only 64-bit little-endian cores (x86-64, aarch64) are understood.

struct CoreSegment {
  uint64_t vaddr = 0;
  uint64_t memsz = 0;
  uint64_t offset = 0;  // in the core file
  uint64_t filesz = 0;
};

struct CoreThread {
  pid_t tid = 0;  // in the process's own pid namespace
  uint64_t sp = 0;
  uint64_t pc = 0;
  bool has_registers = false;  // the architecture's registers were understood
};

struct CoreSignal {
  int signo = 0;
  int code = 0;
  uint64_t address = 0;  // meaningful for SIGSEGV, SIGBUS, SIGILL, SIGFPE
};

struct CoreLayout {
  std::vector<CoreSegment> loads;    // PT_LOAD, in file order
  std::vector<CoreThread> threads;   // NT_PRSTATUS order: the dumping thread first
  std::optional<CoreSignal> signal;  // NT_SIGINFO
  uint64_t headers_end = 0;          // end of the ELF header, program headers and notes
  uint64_t expected_size = 0;        // end of the last segment: the whole core's size
};

// The bytes of the core file needed to read its program headers (the ELF header says where
// they are), once `head` holds at least the ELF header; 0 when `head` is not an ELF core.
uint64_t coreHeadersSize(std::string_view head);

// Parses `head`, the beginning of a core file. Needs the ELF header, the program headers and
// the PT_NOTE segments (headers_end bytes); notes past the end of `head` are skipped.
Result<CoreLayout> parseCoreLayout(std::string_view head);

// A byte range of the core file.
struct FileRange {
  uint64_t begin = 0;
  uint64_t end = 0;
};

// What unwinding needs from the part of a core past `limit`, when the whole core may not be
// kept: the small segments (ELF headers of mapped files, link maps, .data) and, of each
// thread's stack segment, the part from just below its stack pointer up. At most `budget`
// bytes, in file order.
std::vector<FileRange> unwindRangesPast(const CoreLayout& layout, uint64_t limit, uint64_t budget);

}  // namespace vigie::coredump
