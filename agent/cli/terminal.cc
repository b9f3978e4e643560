#include "agent/cli/terminal.h"

#include <unistd.h>

#include <cstdlib>

namespace vigie::cli {

Terminal detectTerminal() {
  Terminal terminal;
  terminal.stdout_is_tty = ::isatty(STDOUT_FILENO) == 1;
  const char* no_color = std::getenv("NO_COLOR");
  terminal.color = terminal.stdout_is_tty && (no_color == nullptr || *no_color == '\0');
  return terminal;
}

std::string styled(std::string_view text, Style style, bool color) {
  if (!color || style == Style::kPlain) {
    return std::string(text);
  }
  std::string_view start;
  switch (style) {
    case Style::kGood:
      start = "\033[32m";
      break;
    case Style::kWarn:
      start = "\033[33m";
      break;
    case Style::kBad:
      start = "\033[1;31m";
      break;
    case Style::kDim:
      start = "\033[2m";
      break;
    case Style::kPlain:
      break;
  }
  std::string out(start);
  out += text;
  out += "\033[0m";
  return out;
}

}  // namespace vigie::cli
