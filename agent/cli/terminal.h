#pragma once

#include <string>
#include <string_view>

namespace vigie::cli {

// What our stdout is: colours and decorations only for a person at a terminal.
struct Terminal {
  bool stdout_is_tty = false;
  // On a TTY, unless NO_COLOR is set (https://no-color.org: any non-empty value).
  bool color = false;
};

Terminal detectTerminal();

enum class Style { kPlain, kGood, kWarn, kBad, kDim };

// `text` wrapped in the ANSI escape of `style` when `color`, else `text` itself.
std::string styled(std::string_view text, Style style, bool color);

}  // namespace vigie::cli
