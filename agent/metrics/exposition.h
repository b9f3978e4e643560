#pragma once

#include <prometheus/collectable.h>

#include <string>
#include <vector>

namespace vigie {

// The content type of the Prometheus text exposition format that TextSerializer writes.
inline constexpr const char* kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

// Collects every source, in order, and serializes the lot in the text format.
std::string exposition(const std::vector<const prometheus::Collectable*>& sources);

}  // namespace vigie
