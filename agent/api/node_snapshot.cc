#include "agent/api/node_snapshot.h"

#include <algorithm>

namespace vigie {

const UnitEntry* NodeSnapshot::find(std::string_view name) const {
  for (const UnitEntry& entry : units) {
    if (entry.view.name == name) {
      return &entry;
    }
  }
  return nullptr;
}

const CrashEntry* CrashState::find(std::string_view id) const {
  const auto it = std::lower_bound(entries.begin(), entries.end(), id,
                                   [](const CrashEntry& entry, std::string_view wanted) {
                                     return entry.incident->id() < wanted;
                                   });
  if (it == entries.end() || it->incident->id() != id) {
    return nullptr;
  }
  return &*it;
}

}  // namespace vigie
