#pragma once

#include <string>

#include "vigie/time.h"
#include "vigie/v1/agent.pb.h"

namespace vigie::cli {

// `vigiectl crash show ID`: what an operator needs first (what crashed, when, why, where in the
// code, whether there is a core and how to debug it), then the crashing thread's top frames,
// the process, the environment (admin callers), errors, and the last lines of output.
std::string renderCrashDetails(const v1::GetCrashResponse& response, WallTime now, bool color);

// Why the signal came, from its si_code: "address not mapped (SEGV_MAPERR)", "sent by kill"...
std::string signalCodeText(int signal, int code);

// The last `max_lines` lines of an output tail, each indented, with control bytes made visible.
std::string tailLines(const std::string& tail, size_t max_lines);

}  // namespace vigie::cli
