#include "agent/cli/unit_sentence.h"

#include <fmt/core.h>

#include "agent/cli/unit_words.h"

namespace vigie::cli {

std::string unitSentence(const v1::Unit& unit, WallTime now, bool color) {
  std::string out = fmt::format("{}: {}", unit.name(),
                                styled(stateName(unit.state()), stateStyle(unit.state()), color));
  if (unit.pid() > 0) {
    out += fmt::format(", pid {}", unit.pid());
  }
  const std::string next = nextStartSummary(unit, now);
  if (next != "-") {
    out += ", next start " + next;
  }
  return out + "\n";
}

}  // namespace vigie::cli
