#pragma once

#include <string_view>

namespace vigie::v1 {

// proto/vigie/v1/agent.descriptor.txt as it was at build time: the API's checked-in wire
// contract, a google.protobuf.FileDescriptorSet in text format.
std::string_view checkedInDescriptorText();

}  // namespace vigie::v1
