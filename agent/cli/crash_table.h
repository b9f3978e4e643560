#pragma once

#include <string>

#include "vigie/time.h"
#include "vigie/v1/agent.pb.h"

namespace vigie::cli {

// `vigiectl crash list`: one line per incident, newest first.
//   ID                              TIME                 UNIT  REASON       SIGNAL   STATUS    CORE
//   FINGERPRINT  COUNT
//   20240501T120304Z-4242-9f3a01c2  2024-05-01 12:03:04  web   core-dumped  SIGSEGV  complete
//   1.2 MiB  5b1c2d3e     14
// COUNT is how many incidents of the same fingerprint are on record. A note says when the limit
// cut the list. `filtered`: the command had filters (the empty message then says so).
std::string renderCrashList(const v1::ListCrashesResponse& response, bool color, bool filtered);

}  // namespace vigie::cli
