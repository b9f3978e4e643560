#pragma once

#include <google/protobuf/descriptor.pb.h>

#include <string>
#include <string_view>
#include <vector>

#include "vigie/result.h"

namespace vigie {

// Checks an API change against its checked-in descriptor snapshot (proto/README.md).
//
// Returns one line per way `after` breaks clients built against `before`, empty when it breaks
// none. A break is: a removed file, message, enum, service or RPC; a field whose number is gone
// and not reserved, or that was renumbered, renamed, retyped, relabelled, or moved in or out of
// a oneof; an enum value that is gone (and not reserved) or renamed; a number that is no longer
// reserved; an RPC whose request or response type or streaming mode changed. Names count
// because the JSON and text formats carry them. Additions of any kind are compatible.
std::vector<std::string> wireCompatibilityBreaks(const google::protobuf::FileDescriptorSet& before,
                                                 const google::protobuf::FileDescriptorSet& after);

// Parses a FileDescriptorSet in protobuf text format (what proto/update_descriptor.sh writes).
Result<google::protobuf::FileDescriptorSet> parseDescriptorSetText(std::string_view text);

// vigie/v1/agent.proto as compiled into this binary, from the generated code's DescriptorPool.
google::protobuf::FileDescriptorSet compiledApiDescriptorSet();

}  // namespace vigie
