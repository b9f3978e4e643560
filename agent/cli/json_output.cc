#include "agent/cli/json_output.h"

#include <google/protobuf/util/json_util.h>

namespace vigie::cli {
namespace {

std::string toJson(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  // Printing a well-formed message cannot fail (only parsing can); an empty object keeps the
  // output valid JSON should it ever happen.
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) {
    out = "{}";
  }
  if (out.empty() || out.back() != '\n') {
    out += '\n';
  }
  return out;
}

}  // namespace

std::string toJsonDocument(const google::protobuf::Message& message) {
  return toJson(message, true);
}

std::string toJsonLine(const google::protobuf::Message& message) {
  return toJson(message, false);
}

}  // namespace vigie::cli
