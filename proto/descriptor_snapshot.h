#pragma once

#include <string_view>

namespace vigie::v1 {

// proto/vigie/v1/agent.descriptor.txt as it was at build time: the API's checked-in wire
// contract, a google.protobuf.FileDescriptorSet in text format.
std::string_view checkedInDescriptorText();

// proto/vigie/v1/crash.descriptor.txt likewise: the crash records' wire contract.
std::string_view checkedInCrashDescriptorText();

}  // namespace vigie::v1
