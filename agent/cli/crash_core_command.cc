// `vigiectl crash core ID --output-file FILE [--compressed]`: an incident's core to a file, raw
// (as the kernel wrote it, decompressed by the agent) or as stored (zstd).
#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include "agent/cli/commands.h"
#include "agent/cli/crash_calls.h"
#include "agent/cli/human.h"
#include "agent/cli/json_output.h"
#include "agent/os/unique_fd.h"

namespace vigie::cli {

ExitCode runCrashCore(CommandContext& context, const CrashCoreArgs& args) {
  const bool to_stdout = args.output_file == "-";
  if (to_stdout && context.terminal.stdout_is_tty) {
    printError(
        "--output-file -: will not write a core to a terminal (redirect it, or name a file)");
    return kExitUsage;
  }
  UniqueFd file;
  if (!to_stdout) {
    file.reset(::open(args.output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!file) {
      printError(Error::fromErrno("cannot create --output-file " + args.output_file).message);
      return kExitUsage;
    }
  }
  CoreFetched fetched;
  const ExitCode code = fetchCore(context, args.id, !args.compressed,
                                  to_stdout ? STDOUT_FILENO : file.get(), fetched);
  if (code != kExitOk) {
    if (!to_stdout) {
      ::unlink(args.output_file.c_str());  // no half core left behind.
    }
    return code;
  }
  if (to_stdout) {
    return kExitOk;
  }
  if (::fsync(file.get()) != 0 || ::close(file.release()) != 0) {
    printError(Error::fromErrno("cannot write --output-file " + args.output_file).message);
    return kExitFailed;
  }
  if (context.format == OutputFormat::kJson) {
    writeOut(toJsonDocument(fetched.header));
  } else {
    writeOut(fmt::format("wrote the {} core of {} to {} ({})\n",
                         args.compressed ? "zstd-compressed" : "raw", fetched.header.id(),
                         args.output_file, humanBytes(fetched.bytes)));
  }
  return kExitOk;
}

}  // namespace vigie::cli
