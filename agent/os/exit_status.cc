#include <string.h>

#include <string>

#include "vigie/process.h"

namespace vigie {

std::string ExitStatus::describe() const {
  if (kind == Kind::kExited) {
    return "exit code " + std::to_string(code);
  }
  if (kind == Kind::kLost) {
    return "exit status lost";
  }
  const char* abbrev = sigabbrev_np(signal);
  std::string text =
      "signal " + (abbrev != nullptr ? "SIG" + std::string(abbrev) : std::to_string(signal));
  if (kind == Kind::kDumped) {
    text += " (core dumped)";
  }
  return text;
}

}  // namespace vigie
