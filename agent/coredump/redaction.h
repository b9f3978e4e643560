#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace vigie::coredump {

// What replaces a secret-looking value.
inline constexpr std::string_view kRedacted = "<redacted>";

// Redacts the value of each KEY=VALUE entry whose KEY matches one of `key_patterns` (fnmatch,
// without case): "API_TOKEN=abc" becomes "API_TOKEN=<redacted>". Returns how many were redacted.
size_t redactEnviron(std::vector<std::string>& environ,
                     const std::vector<std::string>& key_patterns);

// Redacts arguments after argv[0] (fnmatch, without case):
// - a pattern with '=' ("--password=*") matching an argument redacts what follows its first '='
//   ("--password=hunter2" becomes "--password=<redacted>");
// - a pattern without '=' ("--password") matching an argument redacts the next argument whole
//   ("--password hunter2" becomes "--password <redacted>").
// Returns how many were redacted.
size_t redactArguments(std::vector<std::string>& args, const std::vector<std::string>& patterns);

}  // namespace vigie::coredump
