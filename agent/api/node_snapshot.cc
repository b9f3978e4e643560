#include "agent/api/node_snapshot.h"

namespace vigie {

const UnitEntry* NodeSnapshot::find(std::string_view name) const {
  for (const UnitEntry& entry : units) {
    if (entry.view.name == name) {
      return &entry;
    }
  }
  return nullptr;
}

}  // namespace vigie
