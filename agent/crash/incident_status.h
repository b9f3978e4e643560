#pragma once

#include <string_view>

#include "vigie/v1/crash.pb.h"

namespace vigie::crash {

// "pending", "complete", "no-core", "capture-failed", "timed-out": the words vigied logs and
// vigiectl prints. Header-only: vigiectl names statuses without linking the crash library.
inline std::string_view incidentStatusName(v1::IncidentStatus status) {
  switch (status) {
    case v1::INCIDENT_STATUS_PENDING:
      return "pending";
    case v1::INCIDENT_STATUS_COMPLETE:
      return "complete";
    case v1::INCIDENT_STATUS_NO_CORE:
      return "no-core";
    case v1::INCIDENT_STATUS_CAPTURE_FAILED:
      return "capture-failed";
    case v1::INCIDENT_STATUS_TIMED_OUT:
      return "timed-out";
    default:
      return "unknown";
  }
}

}  // namespace vigie::crash
