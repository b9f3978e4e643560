#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vigie {

// The message of a NOT_FOUND for a unit name: the closest known name when one is close enough to
// be a typo ("did you mean"), else the names that do exist (the first few).
std::string unknownUnitMessage(std::string_view name, const std::vector<std::string>& known);

// Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`, for the "did you
// mean".
size_t editDistance(std::string_view a, std::string_view b);

}  // namespace vigie
