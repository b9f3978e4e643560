#include "agent/notify/status_summary.h"

namespace vigie {

void UnitCounts::add(UnitState state) {
  switch (state) {
    case UnitState::kRunning:
      ++running;
      return;
    case UnitState::kStarting:
      ++starting;
      return;
    case UnitState::kStopping:
      ++stopping;
      return;
    case UnitState::kBackingOff:
      ++backing_off;
      return;
    case UnitState::kFailed:
      ++failed;
      return;
    case UnitState::kExited:
      ++exited;
      return;
    case UnitState::kStopped:
      ++stopped;
      return;
  }
}

size_t UnitCounts::total() const {
  return running + starting + stopping + backing_off + failed + exited + stopped;
}

std::string formatStatusSummary(const UnitCounts& counts) {
  const size_t total = counts.total();
  if (total == 0) {
    return "no units";
  }
  std::string text = std::to_string(total) + (total == 1 ? " unit:" : " units:");
  bool first = true;
  auto add = [&](size_t count, const char* what) {
    if (count == 0) {
      return;
    }
    text += first ? " " : ", ";
    text += std::to_string(count) + " " + what;
    first = false;
  };
  add(counts.running, "running");
  add(counts.starting, "starting");
  add(counts.stopping, "stopping");
  add(counts.backing_off, "backing-off");
  add(counts.failed, "failed");
  add(counts.exited, "exited");
  add(counts.stopped, "stopped");
  return text;
}

}  // namespace vigie
