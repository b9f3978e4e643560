#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "vigie/result.h"

namespace vigie::coredump {

// Reads a whole (small) file relative to `dir_fd` (or AT_FDCWD), at most `max_bytes`; a longer
// file is cut there. Retries EINTR; /proc files need several reads.
Result<std::string> readSmallFile(int dir_fd, const char* name, size_t max_bytes);

// readlinkat() into a string.
Result<std::string> readLinkAt(int dir_fd, const char* name);

// Writes all of `data`, retrying short writes and EINTR.
Status writeAll(int fd, std::string_view data);

// Creates `path` and any missing parent with `mode` (like mkdir -p); fine when it exists.
Status makeDirectories(const std::string& path, unsigned mode);

}  // namespace vigie::coredump
