#pragma once

#include <google/protobuf/message.h>

#include <string>

namespace vigie::cli {

// `-o json`: protobuf's canonical JSON mapping with the .proto field names (snake_case, as in
// agent.proto), so that scripts see stable names. Zero values are printed too (a pid of 0 is
// "pid": 0, not a missing key). 64-bit integers are strings, as the mapping says; bytes are
// base64.

// One pretty-printed document, ending with a newline: what `status`, `unit show`, `node`... print.
std::string toJsonDocument(const google::protobuf::Message& message);
// One compact line, ending with a newline: what streams (`events`, `logs`) print per message.
std::string toJsonLine(const google::protobuf::Message& message);

}  // namespace vigie::cli
