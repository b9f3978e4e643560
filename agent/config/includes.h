// Private to the config loader: the drop-in files named by the top-level `include:` list.
#pragma once

#include <string>
#include <vector>

#include "agent/config/yaml_fields.h"

namespace vigie::config_detail {

// A file to read as a drop-in, and the pattern that named it (where to report a failed read).
struct IncludeTarget {
  std::string path;
  Field from;
};

// Expands the patterns of `field` (a list of glob(3) patterns, relative ones resolved against the
// directory of `including_file`), reporting malformed entries. Each pattern's matches are sorted;
// patterns keep their order; a file named twice (or the including file itself) is listed once
// (or not at all). A pattern with wildcards may match nothing; a literal path is always listed,
// so that reading it reports a missing file.
std::vector<IncludeTarget> resolveIncludes(const Field& field, const std::string& including_file,
                                           Diagnostics& diag);

}  // namespace vigie::config_detail
