#pragma once

#include <cstdint>
#include <string>

#include "agent/cli/agent_client.h"
#include "agent/cli/exit_codes.h"
#include "vigie/v1/agent.pb.h"

namespace vigie::cli {

// GetCrash: false when it failed (reported on stderr; `failed` is the exit code).
bool fetchCrash(CommandContext& context, const std::string& id, v1::GetCrashResponse& response,
                ExitCode& failed);

// What a download wrote.
struct CoreFetched {
  v1::DownloadCoreResponse header;  // the first message's id, compression and total, no data
  uint64_t bytes = 0;
};

// Streams incident `id`'s core (`raw`: decompressed by the agent) into `fd`. A failed call is
// reported on stderr (as every command does) and its exit code returned; a short stream or a
// write error too. No deadline: a core may take a while; Ctrl-C stops it.
ExitCode fetchCore(CommandContext& context, const std::string& id, bool raw, int fd,
                   CoreFetched& fetched);

}  // namespace vigie::cli
