// `vigiectl crash gdb ID [--debugger CMD]`: like `coredumpctl debug`: the raw core into a
// temporary file, then the debugger on the crashed executable and that core, in the foreground.
#include <fcntl.h>
#include <fmt/core.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "agent/cli/commands.h"
#include "agent/cli/crash_calls.h"
#include "agent/cli/debugger.h"
#include "agent/cli/human.h"
#include "agent/os/unique_fd.h"

namespace vigie::cli {
namespace {

// Cores can be large: /var/tmp (disk) rather than /tmp (often tmpfs), unless TMPDIR says.
std::string tempDir() {
  const char* dir = std::getenv("TMPDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/var/tmp";
}

// Removes the temporary core however the command ends.
class TempCore {
 public:
  explicit TempCore(const std::string& id) : path_(tempDir() + "/vigie-core-" + id + "-XXXXXX") {
    fd_.reset(::mkostemp(path_.data(), O_CLOEXEC));
    if (!fd_) {
      path_.clear();
    }
  }
  ~TempCore() {
    if (!path_.empty()) {
      ::unlink(path_.c_str());
    }
  }
  TempCore(const TempCore&) = delete;
  TempCore& operator=(const TempCore&) = delete;

  bool ok() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  UniqueFd fd_;
};

}  // namespace

ExitCode runCrashGdb(CommandContext& context, const CrashGdbArgs& args) {
  std::vector<std::string> command = splitCommand(args.debugger);
  if (command.empty()) {
    printError("--debugger is empty");
    return kExitUsage;
  }
  // Checked before anything is downloaded: a missing gdb should not cost a core's transfer.
  const auto program = findProgram(command.front());
  if (!program) {
    printError(
        fmt::format("{} is not installed (not found in PATH): install it (apt install gdb) "
                    "or name another debugger with --debugger",
                    command.front()));
    return kExitFailed;
  }
  v1::GetCrashResponse crash;
  ExitCode failed = kExitOk;
  if (!fetchCrash(context, args.id, crash, failed)) {
    return failed;
  }
  const v1::CrashIncident& incident = crash.incident();
  TempCore core(incident.id());
  if (!core.ok()) {
    printError(Error::fromErrno("cannot create a temporary file in " + tempDir()).message);
    return kExitFailed;
  }
  CoreFetched fetched;
  if (const ExitCode code = fetchCore(context, incident.id(), /*raw=*/true, core.fd(), fetched);
      code != kExitOk) {
    return code;
  }
  const std::string& exe = incident.exe();
  struct stat st {};
  if (exe.empty() || ::stat(exe.c_str(), &st) != 0) {
    writeErr(
        fmt::format("vigiectl: warning: the crashed executable {} is not on this host (deleted "
                    "or replaced since, or inside a container): symbols come from the core "
                    "alone\n",
                    exe.empty() ? "(unknown)" : exe));
  }
  if (!context.client.endpoint().is_unix_socket) {
    writeErr(
        "vigiectl: warning: the core comes from a remote agent; its executable and libraries "
        "are looked up on this host\n");
  }
  writeErr(fmt::format("vigiectl: {} core of {} ({}) in {}\n", humanBytes(fetched.bytes),
                       incident.id(), exe, core.path()));
  command.front() = *program;
  if (exe.empty()) {
    command.insert(command.end(), {"-c", core.path()});  // gdb's "a core, no program".
  } else {
    command.insert(command.end(), {exe, core.path()});
  }
  std::fflush(stdout);
  auto ran = runForeground(command);
  if (!ran) {
    printError(ran.error().message);
    return kExitFailed;
  }
  return *ran == 0 ? kExitOk : kExitFailed;
}

}  // namespace vigie::cli
