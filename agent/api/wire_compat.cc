#include "agent/api/wire_compat.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <map>
#include <set>

#include "vigie/v1/agent.pb.h"

namespace vigie {
namespace {

namespace pb = google::protobuf;

using MessageIndex = std::map<std::string, const pb::DescriptorProto*>;
using EnumIndex = std::map<std::string, const pb::EnumDescriptorProto*>;
using ServiceIndex = std::map<std::string, const pb::ServiceDescriptorProto*>;

struct Index {
  std::map<std::string, const pb::FileDescriptorProto*> files;
  MessageIndex messages;
  EnumIndex enums;
  ServiceIndex services;
};

std::string join(const std::string& scope, const std::string& name) {
  return scope.empty() ? name : scope + "." + name;
}

void indexMessage(const std::string& scope, const pb::DescriptorProto& message, Index& index) {
  const std::string name = join(scope, message.name());
  index.messages[name] = &message;
  for (const auto& nested : message.nested_type()) {
    indexMessage(name, nested, index);
  }
  for (const auto& nested : message.enum_type()) {
    index.enums[join(name, nested.name())] = &nested;
  }
}

Index indexSet(const pb::FileDescriptorSet& set) {
  Index index;
  for (const auto& file : set.file()) {
    index.files[file.name()] = &file;
    for (const auto& message : file.message_type()) {
      indexMessage(file.package(), message, index);
    }
    for (const auto& enumeration : file.enum_type()) {
      index.enums[join(file.package(), enumeration.name())] = &enumeration;
    }
    for (const auto& service : file.service()) {
      index.services[join(file.package(), service.name())] = &service;
    }
  }
  return index;
}

// Message reserved ranges are [start, end); enum reserved ranges are [start, end].
bool messageReserves(const pb::DescriptorProto& message, int number) {
  for (const auto& range : message.reserved_range()) {
    if (number >= range.start() && number < range.end()) {
      return true;
    }
  }
  return false;
}

bool enumReserves(const pb::EnumDescriptorProto& enumeration, int number) {
  for (const auto& range : enumeration.reserved_range()) {
    if (number >= range.start() && number <= range.end()) {
      return true;
    }
  }
  return false;
}

// The real oneof a field belongs to; "" for none, including proto3 `optional`'s synthetic one.
std::string oneofOf(const pb::DescriptorProto& message, const pb::FieldDescriptorProto& field) {
  if (!field.has_oneof_index() || field.proto3_optional() ||
      field.oneof_index() >= message.oneof_decl_size()) {
    return "";
  }
  return message.oneof_decl(field.oneof_index()).name();
}

std::string typeName(const pb::FieldDescriptorProto& field) {
  if (field.type() == pb::FieldDescriptorProto::TYPE_MESSAGE ||
      field.type() == pb::FieldDescriptorProto::TYPE_ENUM ||
      field.type() == pb::FieldDescriptorProto::TYPE_GROUP) {
    return field.type_name();
  }
  return pb::FieldDescriptorProto::Type_Name(field.type());
}

class Checker {
 public:
  std::vector<std::string> breaks;

  void check(const Index& before, const Index& after) {
    for (const auto& [name, file] : before.files) {
      auto it = after.files.find(name);
      if (it == after.files.end()) {
        report("file " + name, "removed");
      } else if (it->second->package() != file->package()) {
        report("file " + name,
               "package changed from " + file->package() + " to " + it->second->package());
      }
    }
    for (const auto& [name, message] : before.messages) {
      auto it = after.messages.find(name);
      if (it == after.messages.end()) {
        report("message " + name, "removed");
      } else {
        checkMessage(name, *message, *it->second);
      }
    }
    for (const auto& [name, enumeration] : before.enums) {
      auto it = after.enums.find(name);
      if (it == after.enums.end()) {
        report("enum " + name, "removed");
      } else {
        checkEnum(name, *enumeration, *it->second);
      }
    }
    for (const auto& [name, service] : before.services) {
      auto it = after.services.find(name);
      if (it == after.services.end()) {
        report("service " + name, "removed");
      } else {
        checkService(name, *service, *it->second);
      }
    }
  }

 private:
  void report(const std::string& where, const std::string& what) {
    breaks.push_back(where + ": " + what);
  }

  void checkMessage(const std::string& name, const pb::DescriptorProto& before,
                    const pb::DescriptorProto& after) {
    std::map<int, const pb::FieldDescriptorProto*> by_number;
    std::map<std::string, const pb::FieldDescriptorProto*> by_name;
    for (const auto& field : after.field()) {
      by_number[field.number()] = &field;
      by_name[field.name()] = &field;
    }
    for (const auto& old_field : before.field()) {
      const std::string where = name + "." + old_field.name();
      auto it = by_number.find(old_field.number());
      if (it == by_number.end()) {
        auto renamed = by_name.find(old_field.name());
        if (renamed != by_name.end()) {
          report(where, "renumbered from " + std::to_string(old_field.number()) + " to " +
                            std::to_string(renamed->second->number()));
        } else if (!messageReserves(after, old_field.number())) {
          report(where, "field " + std::to_string(old_field.number()) +
                            " removed without reserving its number");
        }
        continue;
      }
      checkField(where, before, old_field, after, *it->second);
    }
    for (const auto& range : before.reserved_range()) {
      for (int number = range.start(); number < range.end(); ++number) {
        if (!messageReserves(after, number)) {
          report(name, "number " + std::to_string(number) + " is no longer reserved");
          break;
        }
      }
    }
  }

  void checkField(const std::string& where, const pb::DescriptorProto& before_message,
                  const pb::FieldDescriptorProto& before, const pb::DescriptorProto& after_message,
                  const pb::FieldDescriptorProto& after) {
    if (after.name() != before.name()) {
      report(where, "field " + std::to_string(before.number()) + " renamed to " + after.name());
    }
    if (typeName(after) != typeName(before)) {
      report(where, "type changed from " + typeName(before) + " to " + typeName(after));
    }
    if (after.label() != before.label()) {
      report(where, "label changed from " + pb::FieldDescriptorProto::Label_Name(before.label()) +
                        " to " + pb::FieldDescriptorProto::Label_Name(after.label()));
    }
    const std::string old_oneof = oneofOf(before_message, before);
    const std::string new_oneof = oneofOf(after_message, after);
    if (old_oneof != new_oneof) {
      report(where, "oneof changed from '" + old_oneof + "' to '" + new_oneof + "'");
    }
  }

  void checkEnum(const std::string& name, const pb::EnumDescriptorProto& before,
                 const pb::EnumDescriptorProto& after) {
    std::map<int, std::set<std::string>> names_by_number;  // allow_alias permits several
    for (const auto& value : after.value()) {
      names_by_number[value.number()].insert(value.name());
    }
    for (const auto& old_value : before.value()) {
      const std::string where = name + "." + old_value.name();
      auto it = names_by_number.find(old_value.number());
      if (it == names_by_number.end()) {
        if (!enumReserves(after, old_value.number())) {
          report(where, "value " + std::to_string(old_value.number()) +
                            " removed without reserving its number");
        }
      } else if (it->second.count(old_value.name()) == 0) {
        report(where, "value " + std::to_string(old_value.number()) + " renamed to " +
                          *it->second.begin());
      }
    }
  }

  void checkService(const std::string& name, const pb::ServiceDescriptorProto& before,
                    const pb::ServiceDescriptorProto& after) {
    std::map<std::string, const pb::MethodDescriptorProto*> methods;
    for (const auto& method : after.method()) {
      methods[method.name()] = &method;
    }
    for (const auto& old_method : before.method()) {
      const std::string where = name + "." + old_method.name();
      auto it = methods.find(old_method.name());
      if (it == methods.end()) {
        report(where, "RPC removed");
        continue;
      }
      const pb::MethodDescriptorProto& method = *it->second;
      if (method.input_type() != old_method.input_type()) {
        report(where, "request type changed from " + old_method.input_type() + " to " +
                          method.input_type());
      }
      if (method.output_type() != old_method.output_type()) {
        report(where, "response type changed from " + old_method.output_type() + " to " +
                          method.output_type());
      }
      if (method.client_streaming() != old_method.client_streaming() ||
          method.server_streaming() != old_method.server_streaming()) {
        report(where, "streaming mode changed");
      }
    }
  }
};

class CollectErrors final : public pb::io::ErrorCollector {
 public:
  void AddError(int line, pb::io::ColumnNumber column, const std::string& message) override {
    if (first.empty()) {
      first = std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " + message;
    }
  }
  std::string first;
};

}  // namespace

std::vector<std::string> wireCompatibilityBreaks(const pb::FileDescriptorSet& before,
                                                 const pb::FileDescriptorSet& after) {
  Checker checker;
  checker.check(indexSet(before), indexSet(after));
  return std::move(checker.breaks);
}

Result<pb::FileDescriptorSet> parseDescriptorSetText(std::string_view text) {
  pb::FileDescriptorSet set;
  CollectErrors errors;
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &set)) {
    return Error{"descriptor text: " + (errors.first.empty() ? "parse error" : errors.first)};
  }
  return set;
}

pb::FileDescriptorSet compiledApiDescriptorSet() {
  pb::FileDescriptorSet set;
  v1::HeartbeatRequest::descriptor()->file()->CopyTo(set.add_file());
  return set;
}

}  // namespace vigie
