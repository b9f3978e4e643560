#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/result.h"

namespace vigie::coredump {

// The per-fingerprint rate limit of stored cores: at most `burst` within `interval`.
//
// Pure part: `times` (seconds since the epoch of the cores stored lately) loses the entries
// older than `interval`; then, when fewer than `burst` are left, `now` is added and the core
// may be stored. burst 0 turns the limit off.
bool admitCore(std::vector<int64_t>& times, int64_t now, uint32_t burst,
               std::chrono::seconds interval);

std::vector<int64_t> parseRateTimes(std::string_view text);
std::string formatRateTimes(const std::vector<int64_t>& times);

// The same on disk: `<state_dir>/<fingerprint>`, locked (flock) while read and rewritten, so
// that helpers running side by side count each other. An unreadable state admits the core.
Result<bool> admitCoreOnDisk(const std::string& state_dir, const std::string& fingerprint,
                             int64_t now, uint32_t burst, std::chrono::seconds interval);

}  // namespace vigie::coredump
