#pragma once

#include <string>
#include <string_view>

#include "vigie/result.h"

namespace vigie::crash {

// The few durable file operations the incident store and the core_pattern manager need. A
// reader (or vigied after a crash) sees either the old content or the new one, never a mix.

// Writes `data` to `dir/name.tmp`, fsyncs it, renames it over `dir/name` and fsyncs `dir`.
Status replaceFileDurably(const std::string& dir, const std::string& name, std::string_view data,
                          unsigned mode = 0600);
// Creates `path` (mode 0600) with `data` and fsyncs it; fails if it exists.
Status writeNewFileSynced(const std::string& path, std::string_view data);
Status fsyncPath(const std::string& path);  // a file or a directory.
Result<std::string> readWholeFile(const std::string& path, size_t max_bytes);
// rm -rf; fine when `path` does not exist.
Status removeTree(const std::string& path);
// Creates `path` with `mode` (and missing parents, 0755) and forces `mode` on it.
Status makePrivateDir(const std::string& path, unsigned mode = 0700);

}  // namespace vigie::crash
