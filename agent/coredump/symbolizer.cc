#include "agent/coredump/symbolizer.h"

#include <dwarf.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <libelf.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "agent/coredump/demangle.h"
#include "agent/coredump/file_io.h"
#include "agent/os/unique_fd.h"

namespace vigie::coredump {
namespace {

std::string hex(const unsigned char* bytes, size_t length) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  text.reserve(length * 2);
  for (size_t i = 0; i < length; ++i) {
    text.push_back(kDigits[bytes[i] >> 4]);
    text.push_back(kDigits[bytes[i] & 0xf]);
  }
  return text;
}

std::string moduleBuildId(Dwfl_Module* module) {
  const unsigned char* bits = nullptr;
  GElf_Addr vaddr = 0;
  const int length = dwfl_module_build_id(module, &bits, &vaddr);
  return length > 0 ? hex(bits, static_cast<size_t>(length)) : std::string();
}

std::string dwflError() {
  const char* message = dwfl_errmsg(-1);
  return message != nullptr ? message : "unknown libdwfl error";
}

struct Context {
  const SymbolizeInput* input = nullptr;
  std::string exe_build_id;  // hex
  Dwfl* dwfl = nullptr;
  v1::Backtrace* backtrace = nullptr;
  v1::BacktraceThread* thread = nullptr;
};

// libdwfl's find_elf callback has no user pointer; one symbolization runs at a time.
Context* g_context = nullptr;

void replaceName(char** file_name, const std::string& name) {
  std::free(*file_name);
  *file_name = ::strdup(name.c_str());
}

int openInRoot(int root_fd, const char* path) {
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC;
  // The path is the crashed process's view: its absolute symlinks must stay inside its root.
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, root_fd, path, &how, sizeof(how)));
}

int findElf(Dwfl_Module* module, void** userdata, const char* modname, Dwarf_Addr base,
            char** file_name, Elf** elfp) {
  const Context* context = g_context;
  const SymbolizeInput& input = *context->input;
  const std::string build_id = moduleBuildId(module);
  if (input.exe_fd >= 0 && !build_id.empty() && build_id == context->exe_build_id) {
    const int fd = ::fcntl(input.exe_fd, F_DUPFD_CLOEXEC, 0);
    if (fd >= 0) {
      replaceName(file_name, input.exe_path);
      return fd;
    }
  }
  if (input.in_container && input.root_fd >= 0) {
    const std::string path = *file_name != nullptr ? *file_name : (modname ? modname : "");
    if (!path.empty() && path.front() == '/') {
      const int fd = openInRoot(input.root_fd, path.c_str());
      if (fd >= 0) {
        replaceName(file_name, path);
        return fd;
      }
    }
  }
  return dwfl_build_id_find_elf(module, userdata, modname, base, file_name, elfp);
}

std::string exeBuildId(int exe_fd) {
  if (exe_fd < 0) {
    return {};
  }
  Elf* elf = elf_begin(exe_fd, ELF_C_READ_MMAP, nullptr);
  if (elf == nullptr) {
    return {};
  }
  const void* bits = nullptr;
  const ssize_t length = dwelf_elf_gnu_build_id(elf, &bits);
  std::string id = length > 0
                       ? hex(static_cast<const unsigned char*>(bits), static_cast<size_t>(length))
                       : std::string();
  elf_end(elf);
  return id;
}

// The function at `pc`: from DWARF scopes when debug info is there (names inlined functions
// too), else from the symbol table.
std::string functionAt(Dwfl_Module* module, Dwarf_Addr pc) {
  Dwarf_Addr bias = 0;
  if (Dwarf_Die* cu = dwfl_module_addrdie(module, pc, &bias); cu != nullptr) {
    Dwarf_Die* scopes = nullptr;
    const int n = dwarf_getscopes(cu, pc - bias, &scopes);
    std::unique_ptr<Dwarf_Die, decltype(&std::free)> owned(scopes, &std::free);
    for (int i = 0; i < n; ++i) {
      Dwarf_Die* scope = &scopes[i];
      const int tag = dwarf_tag(scope);
      if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine &&
          tag != DW_TAG_entry_point) {
        continue;
      }
      Dwarf_Attribute space;
      Dwarf_Attribute* attribute = dwarf_attr_integrate(scope, DW_AT_linkage_name, &space);
      if (attribute == nullptr) {
        attribute = dwarf_attr_integrate(scope, DW_AT_MIPS_linkage_name, &space);
      }
      const char* name = attribute != nullptr ? dwarf_formstring(attribute) : nullptr;
      if (name == nullptr) {
        name = dwarf_diename(scope);
      }
      if (name != nullptr) {
        return demangle(name);
      }
    }
  }
  return demangle(dwfl_module_addrname(module, pc));
}

int onFrame(Dwfl_Frame* state, void* arg) {
  auto* context = static_cast<Context*>(arg);
  v1::BacktraceThread* thread = context->thread;
  if (static_cast<size_t>(thread->frames_size()) >= context->input->max_frames) {
    thread->set_frames_truncated(true);
    return DWARF_CB_ABORT;
  }
  Dwarf_Addr pc = 0;
  bool activation = false;
  if (!dwfl_frame_pc(state, &pc, &activation)) {
    thread->set_error(dwflError());
    return DWARF_CB_ABORT;
  }
  // A return address points after the call: look up the call itself.
  const Dwarf_Addr lookup = pc - (activation ? 0 : 1);
  v1::BacktraceFrame* frame = thread->add_frames();
  frame->set_index(static_cast<uint32_t>(thread->frames_size() - 1));
  frame->set_pc(pc);
  if (Dwfl_Module* module = dwfl_addrmodule(context->dwfl, lookup); module != nullptr) {
    Dwarf_Addr start = 0;
    const char* name =
        dwfl_module_info(module, nullptr, &start, nullptr, nullptr, nullptr, nullptr, nullptr);
    frame->set_module(name != nullptr ? name : "");
    frame->set_module_offset(pc - start);
    frame->set_build_id(moduleBuildId(module));
    frame->set_function(functionAt(module, lookup));
    if (Dwfl_Line* line = dwfl_module_getsrc(module, lookup); line != nullptr) {
      int lineno = 0;
      if (const char* file = dwfl_lineinfo(line, nullptr, &lineno, nullptr, nullptr, nullptr)) {
        frame->set_file(file);
        frame->set_line(static_cast<uint32_t>(std::max(lineno, 0)));
      }
    }
  }
  return DWARF_CB_OK;
}

int onThread(Dwfl_Thread* dwfl_thread, void* arg) {
  auto* context = static_cast<Context*>(arg);
  if (static_cast<size_t>(context->backtrace->threads_size()) >= context->input->max_threads) {
    context->backtrace->set_threads_truncated(true);
    return DWARF_CB_ABORT;
  }
  v1::BacktraceThread* thread = context->backtrace->add_threads();
  thread->set_tid(dwfl_thread_tid(dwfl_thread));
  context->thread = thread;
  if (dwfl_thread_getframes(dwfl_thread, onFrame, context) < 0 && thread->error().empty() &&
      dwfl_errno() != 0) {
    // The usual end of an unwind past the outermost frame; only worth saying with no frames.
    if (thread->frames_size() == 0) {
      thread->set_error(dwflError());
    }
  }
  context->thread = nullptr;
  return DWARF_CB_OK;
}

int onModule(Dwfl_Module* module, void** /*userdata*/, const char* name, Dwarf_Addr start,
             void* arg) {
  auto* context = static_cast<Context*>(arg);
  v1::BacktraceModule* out = context->backtrace->add_modules();
  out->set_name(name != nullptr ? name : "");
  out->set_start(start);
  out->set_build_id(moduleBuildId(module));
  Dwarf_Addr bias = 0;
  (void)dwfl_module_getelf(module, &bias);  // finds the module's file (find_elf) now
  Dwarf_Addr end = 0;
  const char* mainfile = nullptr;
  dwfl_module_info(module, nullptr, nullptr, &end, nullptr, nullptr, &mainfile, nullptr);
  out->set_end(end);
  if (mainfile != nullptr) {
    out->set_elf_path(mainfile);
  }
  return DWARF_CB_OK;
}

void crashedThreadFirst(v1::Backtrace& backtrace, pid_t crashed_tid) {
  auto* threads = backtrace.mutable_threads();
  if (threads->empty()) {
    return;
  }
  int crashed = 0;  // the kernel writes the dumping thread first
  for (int i = 0; i < threads->size(); ++i) {
    if (crashed_tid != 0 && threads->Get(i).tid() == crashed_tid) {
      crashed = i;
      break;
    }
  }
  threads->Mutable(crashed)->set_crashed(true);
  for (int i = crashed; i > 0; --i) {
    threads->SwapElements(i, i - 1);
  }
}

}  // namespace

v1::Backtrace symbolizeCore(const SymbolizeInput& input) {
  v1::Backtrace backtrace;
  Context context;
  context.input = &input;
  context.backtrace = &backtrace;
  elf_version(EV_CURRENT);
  context.exe_build_id = exeBuildId(input.exe_fd);
  backtrace.set_exe_build_id(context.exe_build_id);

  Elf* elf = elf_begin(input.core_fd, ELF_C_READ_MMAP, nullptr);
  if (elf == nullptr) {
    backtrace.set_error(std::string("core: ") + elf_errmsg(-1));
    return backtrace;
  }
  std::unique_ptr<Elf, decltype(&elf_end)> elf_owner(elf, &elf_end);
  static const Dwfl_Callbacks kCallbacks = {
      .find_elf = findElf,
      .find_debuginfo = dwfl_standard_find_debuginfo,
      .section_address = dwfl_offline_section_address,
      .debuginfo_path = nullptr,
  };
  Dwfl* dwfl = dwfl_begin(&kCallbacks);
  if (dwfl == nullptr) {
    backtrace.set_error("dwfl_begin: " + dwflError());
    return backtrace;
  }
  std::unique_ptr<Dwfl, decltype(&dwfl_end)> dwfl_owner(dwfl, &dwfl_end);
  context.dwfl = dwfl;
  g_context = &context;

  if (dwfl_core_file_report(dwfl, elf, nullptr) < 0) {
    backtrace.set_error("reading the core: " + dwflError());
  } else if (dwfl_report_end(dwfl, nullptr, nullptr) != 0) {
    backtrace.set_error("reading the core: " + dwflError());
  } else {
    (void)dwfl_getmodules(dwfl, onModule, &context, 0);
    if (dwfl_core_file_attach(dwfl, elf) < 0) {
      backtrace.set_error("reading the core's threads: " + dwflError());
    } else if (dwfl_getthreads(dwfl, onThread, &context) < 0 && backtrace.threads_size() == 0) {
      backtrace.set_error("unwinding: " + dwflError());
    }
  }
  g_context = nullptr;
  crashedThreadFirst(backtrace, input.crashed_tid);
  return backtrace;
}

IsolatedResult symbolizeIsolated(const SymbolizeInput& input, std::chrono::milliseconds timeout) {
  IsolatedResult result;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    result.backtrace.set_error(Error::fromErrno("pipe").message);
    return result;
  }
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const pid_t child = ::fork();
  if (child < 0) {
    result.backtrace.set_error(Error::fromErrno("fork").message);
    return result;
  }
  if (child == 0) {
    // A crash in here must not come back to us as another core.
    (void)::prctl(PR_SET_DUMPABLE, 0);
    const rlimit no_core{0, 0};
    (void)::setrlimit(RLIMIT_CORE, &no_core);
    read_end.reset();
    const v1::Backtrace backtrace = symbolizeCore(input);
    std::string bytes;
    const bool serialized = backtrace.SerializeToString(&bytes);
    const bool written = serialized && writeAll(write_end.get(), bytes).ok();
    ::_exit(written ? 0 : 1);
  }
  write_end.reset();

  std::string bytes;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    pollfd pfd{read_end.get(), POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left.count(), 60000)));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      continue;
    }
    const ssize_t n = ::read(read_end.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    bytes.append(buffer, static_cast<size_t>(n));
  }
  if (result.timed_out) {
    ::kill(child, SIGKILL);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (result.timed_out) {
    result.backtrace.set_error("symbolization timed out after " + std::to_string(timeout.count()) +
                               " ms");
    return result;
  }
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    result.backtrace.set_error(std::string("the symbolizer crashed (SIG") +
                               (name != nullptr ? name : "?") + ") on this core");
    return result;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !result.backtrace.ParseFromString(bytes)) {
    result.backtrace.Clear();
    result.backtrace.set_error("the symbolizer failed without a result");
  }
  return result;
}

}  // namespace vigie::coredump
