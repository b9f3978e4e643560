// vigie-coredump: reading an ELF core's head, and draining a core from a pipe, whole or past
// its limit (keeping only what unwinding needs), on a small synthetic core.
#include <doctest/doctest.h>
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/procfs.h>
#include <sys/user.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include "agent/coredump/core_drain.h"
#include "agent/coredump/core_layout.h"
#include "agent/os/unique_fd.h"
#include "tests/fakes/temp_dir.h"

namespace vigie::coredump {
namespace {

constexpr uint64_t kSmallVaddr = 0x400000, kSmallSize = 4096;
constexpr uint64_t kHeapVaddr = 0x1000000, kHeapSize = 1 << 20;
constexpr uint64_t kStackVaddr = 0x7ffd00000000, kStackSize = 256 * 1024;
constexpr uint64_t kStackPointer = kStackVaddr + 200 * 1024;

template <class T>
void append(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(value));
}

void appendNote(std::string& out, uint32_t type, const std::string& desc) {
  Elf64_Nhdr note{};
  note.n_namesz = 5;  // "CORE\0"
  note.n_descsz = static_cast<uint32_t>(desc.size());
  note.n_type = type;
  append(out, note);
  out.append("CORE\0\0\0\0", 8);
  out += desc;
  out.append((4 - desc.size() % 4) % 4, '\0');
}

struct SyntheticCore {
  std::string bytes;
  uint64_t small_offset = 0, heap_offset = 0, stack_offset = 0;
};

// ELF header, 4 program headers (note, small, heap, stack), notes, then the three segments,
// each filled with its own byte value.
SyntheticCore makeCore() {
  std::string notes;
  elf_prstatus status{};
  status.pr_pid = 77;
#if defined(__x86_64__)
  user_regs_struct regs{};
  regs.rsp = kStackPointer;
  regs.rip = kSmallVaddr + 16;
  std::memcpy(&status.pr_reg, &regs, sizeof(regs));
#endif
  appendNote(notes, NT_PRSTATUS,
             std::string(reinterpret_cast<const char*>(&status), sizeof(status)));
  siginfo_t info{};
  info.si_signo = SIGSEGV;
  info.si_code = SEGV_MAPERR;
  info.si_addr = reinterpret_cast<void*>(0x10);
  appendNote(notes, NT_SIGINFO, std::string(reinterpret_cast<const char*>(&info), sizeof(info)));

  SyntheticCore core;
  const uint64_t phoff = sizeof(Elf64_Ehdr);
  const uint64_t notes_offset = phoff + 4 * sizeof(Elf64_Phdr);
  core.small_offset = (notes_offset + notes.size() + 4095) & ~uint64_t{4095};
  core.heap_offset = core.small_offset + kSmallSize;
  core.stack_offset = core.heap_offset + kHeapSize;

  Elf64_Ehdr header{};
  std::memcpy(header.e_ident, ELFMAG, SELFMAG);
  header.e_ident[EI_CLASS] = ELFCLASS64;
  header.e_ident[EI_DATA] = ELFDATA2LSB;
  header.e_ident[EI_VERSION] = EV_CURRENT;
  header.e_type = ET_CORE;
  header.e_machine = EM_X86_64;
  header.e_version = EV_CURRENT;
  header.e_phoff = phoff;
  header.e_ehsize = sizeof(Elf64_Ehdr);
  header.e_phentsize = sizeof(Elf64_Phdr);
  header.e_phnum = 4;
  append(core.bytes, header);
  auto phdr = [&](uint32_t type, uint64_t offset, uint64_t vaddr, uint64_t size) {
    Elf64_Phdr p{};
    p.p_type = type;
    p.p_offset = offset;
    p.p_vaddr = vaddr;
    p.p_filesz = size;
    p.p_memsz = size;
    append(core.bytes, p);
  };
  phdr(PT_NOTE, notes_offset, 0, notes.size());
  phdr(PT_LOAD, core.small_offset, kSmallVaddr, kSmallSize);
  phdr(PT_LOAD, core.heap_offset, kHeapVaddr, kHeapSize);
  phdr(PT_LOAD, core.stack_offset, kStackVaddr, kStackSize);
  core.bytes += notes;
  core.bytes.resize(core.small_offset, '\0');
  core.bytes.append(kSmallSize, 'S');
  core.bytes.append(kHeapSize, 'H');
  core.bytes.append(kStackSize, 'K');
  return core;
}

// Drains `bytes` written into a pipe by another thread into a file of `dir`.
DrainResult drainThroughPipe(const std::string& bytes, const DrainPlan& plan, int out_fd) {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  UniqueFd read_end(fds[0]);
  std::thread writer([fd = fds[1], &bytes] {
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n <= 0) {
        break;  // the reader stopped early
      }
      done += static_cast<size_t>(n);
    }
    ::close(fd);
  });
  DrainResult result = drainCore(read_end.get(), out_fd, plan);
  read_end.reset();  // a writer blocked on a full pipe gets EPIPE now
  writer.join();
  return result;
}

std::string readAll(int fd) {
  std::string text;
  char buffer[65536];
  ssize_t n;
  off_t at = 0;
  while ((n = ::pread(fd, buffer, sizeof(buffer), at)) > 0) {
    text.append(buffer, static_cast<size_t>(n));
    at += n;
  }
  return text;
}

TEST_CASE("coredump core layout: segments, threads and signal from the head") {
  signal(SIGPIPE, SIG_IGN);
  const SyntheticCore core = makeCore();
  const auto layout = parseCoreLayout(std::string_view(core.bytes).substr(0, core.small_offset));
  REQUIRE_MESSAGE(layout.ok(), (layout.ok() ? "" : layout.error().message));
  CHECK(layout->loads.size() == 3);
  CHECK(layout->expected_size == core.bytes.size());
  REQUIRE(layout->threads.size() == 1);
  CHECK(layout->threads[0].tid == 77);
  REQUIRE(layout->signal.has_value());
  CHECK(layout->signal->signo == SIGSEGV);
  CHECK(layout->signal->code == SEGV_MAPERR);
  CHECK(layout->signal->address == 0x10);
  CHECK(coreHeadersSize(core.bytes) == sizeof(Elf64_Ehdr) + 4 * sizeof(Elf64_Phdr));

  CHECK_FALSE(parseCoreLayout("not an elf file at all, not even close to one........").ok());
  CHECK_FALSE(parseCoreLayout("\x7f"
                              "ELF")
                  .ok());
  CHECK(coreHeadersSize("garbage") == 0);

#if defined(__x86_64__)
  CHECK(layout->threads[0].sp == kStackPointer);
  // Past the heap's start: the heap is dropped, the stack kept from below its pointer up.
  const auto ranges = unwindRangesPast(*layout, core.heap_offset, uint64_t{64} << 20);
  REQUIRE(ranges.size() == 1);
  CHECK(ranges[0].begin == core.stack_offset + (kStackPointer - 4096 - kStackVaddr));
  CHECK(ranges[0].end == core.stack_offset + kStackSize);
  // Past the start: the small segment too. A budget too small for the stack drops it.
  CHECK(unwindRangesPast(*layout, 0, uint64_t{64} << 20).size() == 2);
  CHECK(unwindRangesPast(*layout, 0, 8192).size() == 1);
#endif
}

TEST_CASE("coredump drain: a whole core lands byte for byte") {
  testing::TempDir dir;
  const SyntheticCore core = makeCore();
  UniqueFd out(::open((dir.path() + "/core").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600));
  REQUIRE(out.valid());
  DrainPlan plan;
  plan.limit = uint64_t{1} << 30;
  const DrainResult result = drainThroughPipe(core.bytes, plan, out.get());
  CHECK_FALSE(result.error.has_value());
  CHECK_FALSE(result.truncated);
  CHECK(result.received == core.bytes.size());
  CHECK(result.head == core.bytes.size());
  CHECK(readAll(out.get()) == core.bytes);
}

TEST_CASE("coredump drain: a core exactly at the limit is not truncated") {
  testing::TempDir dir;
  const SyntheticCore core = makeCore();
  UniqueFd out(::open((dir.path() + "/core").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600));
  DrainPlan plan;
  plan.limit = core.bytes.size();
  const DrainResult result = drainThroughPipe(core.bytes, plan, out.get());
  CHECK_FALSE(result.truncated);
  CHECK(result.received == core.bytes.size());
}

TEST_CASE("coredump drain: past the limit, only the stack is kept, in a sparse file") {
  testing::TempDir dir;
  const SyntheticCore core = makeCore();
  UniqueFd out(::open((dir.path() + "/core").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600));
  DrainPlan plan;
  plan.limit = core.heap_offset + 1000;
  const DrainResult result = drainThroughPipe(core.bytes, plan, out.get());
  CHECK_FALSE(result.error.has_value());
  CHECK(result.truncated);
  CHECK(result.head == plan.limit);
  CHECK(result.expected_size == core.bytes.size());
  const std::string kept = readAll(out.get());
  CHECK(kept.substr(0, plan.limit) == core.bytes.substr(0, plan.limit));
#if defined(__x86_64__)
  CHECK(result.extra == 4096 + (kStackVaddr + kStackSize - kStackPointer));
  REQUIRE(kept.size() == core.bytes.size());
  CHECK(kept[core.heap_offset + 2000] == '\0');  // a hole where the heap was
  CHECK(kept[core.stack_offset + kStackSize - 1] == 'K');
#endif
}

TEST_CASE("coredump drain: input that is not a pipe is read plainly") {
  testing::TempDir dir;
  const std::string input = dir.write("input", "garbage, not a core\n");
  UniqueFd in(::open(input.c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd out(::open((dir.path() + "/core").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600));
  DrainPlan plan;
  plan.limit = 1 << 20;
  const DrainResult result = drainCore(in.get(), out.get(), plan);
  CHECK_FALSE(result.error.has_value());
  CHECK(result.received == 20);
  CHECK(readAll(out.get()) == "garbage, not a core\n");
}

}  // namespace
}  // namespace vigie::coredump
