// Wire compatibility of the API: the compiled descriptor against the checked-in snapshot, and
// the checker itself on hand-made descriptor pairs, so that it cannot pass by seeing nothing.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "agent/api/wire_compat.h"
#include "proto/descriptor_snapshot.h"

namespace vigie {
namespace {

namespace pb = google::protobuf;

constexpr const char* kBase = R"pb(
  file {
    name: "test/v1/thing.proto"
    package: "test.v1"
    message_type {
      name: "Thing"
      field { name: "id" number: 1 label: LABEL_OPTIONAL type: TYPE_UINT64 }
      field { name: "name" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING }
      field {
        name: "state"
        number: 3
        label: LABEL_OPTIONAL
        type: TYPE_ENUM
        type_name: ".test.v1.State"
      }
      field { name: "tags" number: 4 label: LABEL_REPEATED type: TYPE_STRING }
      field {
        name: "child"
        number: 5
        label: LABEL_OPTIONAL
        type: TYPE_MESSAGE
        type_name: ".test.v1.Thing.Child"
      }
      field { name: "code" number: 6 label: LABEL_OPTIONAL type: TYPE_INT32 oneof_index: 0 }
      field { name: "text" number: 7 label: LABEL_OPTIONAL type: TYPE_STRING oneof_index: 0 }
      oneof_decl { name: "outcome" }
      nested_type {
        name: "Child"
        field { name: "value" number: 1 label: LABEL_OPTIONAL type: TYPE_INT32 }
      }
      reserved_range { start: 9 end: 10 }
    }
    message_type {
      name: "GetThingRequest"
      field { name: "id" number: 1 label: LABEL_OPTIONAL type: TYPE_UINT64 }
    }
    message_type { name: "GetThingResponse" }
    message_type { name: "Other" }
    enum_type {
      name: "State"
      value { name: "STATE_UNSPECIFIED" number: 0 }
      value { name: "STATE_ON" number: 1 }
      value { name: "STATE_OFF" number: 2 }
    }
    service {
      name: "Things"
      method {
        name: "GetThing"
        input_type: ".test.v1.GetThingRequest"
        output_type: ".test.v1.GetThingResponse"
      }
      method {
        name: "WatchThings"
        input_type: ".test.v1.GetThingRequest"
        output_type: ".test.v1.GetThingResponse"
        server_streaming: true
      }
    }
  }
)pb";

pb::FileDescriptorSet base() {
  auto parsed = parseDescriptorSetText(kBase);
  REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error().message));
  return *parsed;
}

pb::FileDescriptorProto& file(pb::FileDescriptorSet& set) {
  return *set.mutable_file(0);
}
pb::DescriptorProto& thing(pb::FileDescriptorSet& set) {
  return *file(set).mutable_message_type(0);
}
pb::FieldDescriptorProto& thingField(pb::FileDescriptorSet& set, int number) {
  for (auto& field : *thing(set).mutable_field()) {
    if (field.number() == number) {
      return field;
    }
  }
  FAIL("no field " << number);
  return *thing(set).add_field();
}
void removeThingField(pb::FileDescriptorSet& set, int number) {
  auto* fields = thing(set).mutable_field();
  for (int i = 0; i < fields->size(); ++i) {
    if (fields->Get(i).number() == number) {
      fields->DeleteSubrange(i, 1);
      return;
    }
  }
}

std::vector<std::string> breaksAfter(const std::function<void(pb::FileDescriptorSet&)>& change) {
  pb::FileDescriptorSet after = base();
  change(after);
  return wireCompatibilityBreaks(base(), after);
}

bool mentions(const std::vector<std::string>& breaks, const std::string& text) {
  for (const auto& line : breaks) {
    if (line.find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST_CASE("api compat: the current API is wire compatible with the checked-in descriptor") {
  auto snapshot = parseDescriptorSetText(v1::checkedInDescriptorText());
  REQUIRE_MESSAGE(snapshot.ok(), (snapshot.ok() ? "" : snapshot.error().message));
  const pb::FileDescriptorSet compiled = compiledApiDescriptorSet();
  const std::vector<std::string> breaks = wireCompatibilityBreaks(*snapshot, compiled);
  for (const auto& line : breaks) {
    MESSAGE(line);
  }
  CHECK_MESSAGE(breaks.empty(),
                "the API breaks wire compatibility with proto/vigie/v1/agent.descriptor.txt; if "
                "the break is really intended, run proto/update_descriptor.sh (proto/README.md)");
}

TEST_CASE("api compat: the checked-in descriptor holds the whole Agent service") {
  auto snapshot = parseDescriptorSetText(v1::checkedInDescriptorText());
  REQUIRE(snapshot.ok());
  REQUIRE(snapshot->file_size() >= 1);
  const pb::FileDescriptorProto* agent = nullptr;
  for (const auto& f : snapshot->file()) {
    if (f.name() == "vigie/v1/agent.proto") {
      agent = &f;
    }
  }
  REQUIRE(agent != nullptr);
  CHECK(agent->package() == "vigie.v1");
  CHECK(agent->message_type_size() >= 30);
  REQUIRE(agent->service_size() == 1);
  std::vector<std::string> methods;
  for (const auto& method : agent->service(0).method()) {
    methods.push_back(method.name());
  }
  CHECK(methods == std::vector<std::string>{"GetNode", "ListUnits", "GetUnit", "StartUnit",
                                            "StopUnit", "RestartUnit", "SignalUnit", "ReloadConfig",
                                            "ReadOutput", "WatchEvents", "Heartbeat", "ListCrashes",
                                            "GetCrash", "DownloadCore"});
}

TEST_CASE("api compat: the check sees a break in the real API") {
  auto snapshot = parseDescriptorSetText(v1::checkedInDescriptorText());
  REQUIRE(snapshot.ok());
  pb::FileDescriptorSet changed = compiledApiDescriptorSet();
  for (auto& message : *changed.mutable_file(0)->mutable_message_type()) {
    if (message.name() == "HeartbeatResponse") {
      message.mutable_field()->DeleteSubrange(0, 1);  // version
    }
  }
  const auto breaks = wireCompatibilityBreaks(*snapshot, changed);
  CHECK(mentions(breaks, "vigie.v1.HeartbeatResponse.version"));
}

TEST_CASE("api compat: an identical descriptor and additions are compatible") {
  CHECK(breaksAfter([](pb::FileDescriptorSet&) {}).empty());
  CHECK(breaksAfter([](pb::FileDescriptorSet& s) {
          auto* field = thing(s).add_field();
          field->set_name("added");
          field->set_number(8);
          field->set_label(pb::FieldDescriptorProto::LABEL_OPTIONAL);
          field->set_type(pb::FieldDescriptorProto::TYPE_BOOL);
        }).empty());
  CHECK(breaksAfter([](pb::FileDescriptorSet& s) {
          file(s).add_message_type()->set_name("New");
        }).empty());
  CHECK(breaksAfter([](pb::FileDescriptorSet& s) {
          auto* value = file(s).mutable_enum_type(0)->add_value();
          value->set_name("STATE_BROKEN");
          value->set_number(3);
        }).empty());
  CHECK(breaksAfter([](pb::FileDescriptorSet& s) {
          auto* method = file(s).mutable_service(0)->add_method();
          method->set_name("DeleteThing");
          method->set_input_type(".test.v1.GetThingRequest");
          method->set_output_type(".test.v1.GetThingResponse");
        }).empty());
}

TEST_CASE("api compat: a removed field breaks, unless its number is reserved") {
  auto breaks = breaksAfter([](pb::FileDescriptorSet& s) { removeThingField(s, 2); });
  CHECK(mentions(breaks, "test.v1.Thing.name: field 2 removed"));

  CHECK(breaksAfter([](pb::FileDescriptorSet& s) {
          removeThingField(s, 2);
          auto* range = thing(s).add_reserved_range();
          range->set_start(2);
          range->set_end(3);
          thing(s).add_reserved_name("name");
        }).empty());

  breaks = breaksAfter(
      [](pb::FileDescriptorSet& s) { thing(s).mutable_nested_type(0)->mutable_field()->Clear(); });
  CHECK(mentions(breaks, "test.v1.Thing.Child.value"));
}

TEST_CASE("api compat: a renumbered or renamed field breaks") {
  auto breaks = breaksAfter([](pb::FileDescriptorSet& s) { thingField(s, 2).set_number(12); });
  CHECK(mentions(breaks, "test.v1.Thing.name: renumbered from 2 to 12"));
  breaks = breaksAfter([](pb::FileDescriptorSet& s) { thingField(s, 2).set_name("title"); });
  CHECK(mentions(breaks, "field 2 renamed to title"));
}

TEST_CASE("api compat: a changed field type, message type or label breaks") {
  auto breaks = breaksAfter([](pb::FileDescriptorSet& s) {
    thingField(s, 1).set_type(pb::FieldDescriptorProto::TYPE_STRING);
  });
  CHECK(mentions(breaks, "test.v1.Thing.id: type changed from TYPE_UINT64 to TYPE_STRING"));
  breaks = breaksAfter(
      [](pb::FileDescriptorSet& s) { thingField(s, 5).set_type_name(".test.v1.Other"); });
  CHECK(mentions(breaks, "type changed from .test.v1.Thing.Child to .test.v1.Other"));
  breaks = breaksAfter([](pb::FileDescriptorSet& s) {
    thingField(s, 2).set_label(pb::FieldDescriptorProto::LABEL_REPEATED);
  });
  CHECK(mentions(breaks, "test.v1.Thing.name: label changed"));
  breaks = breaksAfter([](pb::FileDescriptorSet& s) { thingField(s, 6).clear_oneof_index(); });
  CHECK(mentions(breaks, "test.v1.Thing.code: oneof changed"));
}

TEST_CASE("api compat: proto3 optional on an existing field is compatible") {
  CHECK(breaksAfter([](pb::FileDescriptorSet& s) {
          thing(s).add_oneof_decl()->set_name("_id");
          thingField(s, 1).set_oneof_index(1);
          thingField(s, 1).set_proto3_optional(true);
        }).empty());
}

TEST_CASE("api compat: a dropped reservation breaks") {
  auto breaks = breaksAfter([](pb::FileDescriptorSet& s) { thing(s).clear_reserved_range(); });
  CHECK(mentions(breaks, "number 9 is no longer reserved"));
}

TEST_CASE("api compat: a removed or renamed enum value breaks, unless reserved") {
  auto breaks = breaksAfter([](pb::FileDescriptorSet& s) {
    file(s).mutable_enum_type(0)->mutable_value()->RemoveLast();
  });
  CHECK(mentions(breaks, "test.v1.State.STATE_OFF: value 2 removed"));
  CHECK(breaksAfter([](pb::FileDescriptorSet& s) {
          auto* state = file(s).mutable_enum_type(0);
          state->mutable_value()->RemoveLast();
          auto* range = state->add_reserved_range();
          range->set_start(2);
          range->set_end(2);  // inclusive for enums
        }).empty());
  breaks = breaksAfter([](pb::FileDescriptorSet& s) {
    file(s).mutable_enum_type(0)->mutable_value(1)->set_name("STATE_UP");
  });
  CHECK(mentions(breaks, "test.v1.State.STATE_ON: value 1 renamed to STATE_UP"));
}

TEST_CASE("api compat: a removed message, enum or service breaks") {
  auto breaks = breaksAfter(
      [](pb::FileDescriptorSet& s) { file(s).mutable_message_type()->DeleteSubrange(3, 1); });
  CHECK(mentions(breaks, "message test.v1.Other: removed"));
  breaks = breaksAfter([](pb::FileDescriptorSet& s) { file(s).clear_enum_type(); });
  CHECK(mentions(breaks, "enum test.v1.State: removed"));
  breaks = breaksAfter([](pb::FileDescriptorSet& s) { file(s).clear_service(); });
  CHECK(mentions(breaks, "service test.v1.Things: removed"));
  breaks = breaksAfter([](pb::FileDescriptorSet& s) { file(s).set_package("test.v2"); });
  CHECK(mentions(breaks, "package changed from test.v1 to test.v2"));
}

TEST_CASE("api compat: a removed RPC, a changed request or response, or streaming mode breaks") {
  auto breaks = breaksAfter(
      [](pb::FileDescriptorSet& s) { file(s).mutable_service(0)->mutable_method()->RemoveLast(); });
  CHECK(mentions(breaks, "test.v1.Things.WatchThings: RPC removed"));
  breaks = breaksAfter([](pb::FileDescriptorSet& s) {
    file(s).mutable_service(0)->mutable_method(0)->set_input_type(".test.v1.Other");
  });
  CHECK(mentions(breaks, "test.v1.Things.GetThing: request type changed"));
  breaks = breaksAfter([](pb::FileDescriptorSet& s) {
    file(s).mutable_service(0)->mutable_method(0)->set_output_type(".test.v1.Other");
  });
  CHECK(mentions(breaks, "test.v1.Things.GetThing: response type changed"));
  breaks = breaksAfter([](pb::FileDescriptorSet& s) {
    file(s).mutable_service(0)->mutable_method(1)->set_server_streaming(false);
  });
  CHECK(mentions(breaks, "test.v1.Things.WatchThings: streaming mode changed"));
}

TEST_CASE("api compat: descriptor text that does not parse is an error with its position") {
  auto parsed = parseDescriptorSetText("file { name: \"x.proto\" bogus_field: 1 }");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().message.find("1:") != std::string::npos);
}

}  // namespace
}  // namespace vigie
