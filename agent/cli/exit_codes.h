#pragma once

namespace vigie::cli {

// vigiectl's exit codes, for scripts.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,       // the operation failed: unknown unit, reload rejected...
  kExitUsage = 2,        // a bad command line (or a request the agent calls invalid)
  kExitUnreachable = 3,  // the agent cannot be reached, or refused access
};

}  // namespace vigie::cli
