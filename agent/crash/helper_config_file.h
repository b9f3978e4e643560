#pragma once

#include <string>

#include "vigie/config.h"
#include "vigie/result.h"

namespace vigie::crash {

// The helper's JSON config (CoredumpHelperConfig of crash.proto) from vigied's effective
// settings. `forward`: the previous pipe pattern to hand cores on to ("" for none).
std::string helperConfigJson(const CrashSpec& spec, const std::string& spool_dir,
                             const std::string& forward);

// Writes it atomically to spec.helper_config (creating its directory).
Status writeHelperConfig(const CrashSpec& spec, const std::string& spool_dir,
                         const std::string& forward);

// The pattern to forward to: `previous` when it is a pipe pattern other than ours and
// crash.forward_previous is set; else "".
std::string forwardPattern(const CrashSpec& spec, const std::string& previous,
                           const std::string& ours);

}  // namespace vigie::crash
