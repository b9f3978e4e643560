#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vigie/result.h"

namespace vigie::cli {

// `crash gdb --debugger "gdb -q"`: the program and its arguments, split at blanks (no shell
// quoting: a debugger command line is a few plain words).
std::vector<std::string> splitCommand(const std::string& text);

// Where `program` is: itself when it holds a '/', else the first executable of that name in
// $PATH; nullopt when there is none.
std::optional<std::string> findProgram(const std::string& program);

// Runs `argv` in the foreground with our stdin, stdout and stderr, and waits for it. While it
// runs, vigiectl ignores SIGINT and SIGQUIT (they are the debugger's, as with coredumpctl).
// Its exit code, or an error when it could not be started or was killed by a signal.
Result<int> runForeground(const std::vector<std::string>& argv);

}  // namespace vigie::cli
