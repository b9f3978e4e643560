#pragma once

#include <cstddef>
#include <string>

#include "vigie/unit_lifecycle.h"

namespace vigie {

// How many units are in each state: what the agent's STATUS= line is made of.
struct UnitCounts {
  size_t running = 0;
  size_t starting = 0;
  size_t stopping = 0;
  size_t backing_off = 0;
  size_t failed = 0;
  size_t exited = 0;
  size_t stopped = 0;

  void add(UnitState state);
  size_t total() const;
};

// "3 units: 2 running, 1 failed". States come in a fixed order (running, starting, stopping,
// backing-off, failed, exited, stopped) and zero counts are left out, so the text only changes
// when a count does. "no units" when there are none.
std::string formatStatusSummary(const UnitCounts& counts);

}  // namespace vigie
