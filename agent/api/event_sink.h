#pragma once

#include <vector>

#include "vigie/v1/agent.pb.h"

namespace vigie {

// Where the API's events go once they are stamped with the version of the first snapshot that
// includes them (SnapshotUpdater). Loop thread only; in publish order.
class ApiEventSink {
 public:
  virtual ~ApiEventSink() = default;
  virtual void publishEvents(const std::vector<v1::Event>& events) = 0;
};

}  // namespace vigie
