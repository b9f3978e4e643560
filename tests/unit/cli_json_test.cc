// vigiectl -o json: valid JSON that protobuf parses back to the same message, with the .proto
// field names, one document for commands and one line per message for streams.
#include <doctest/doctest.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>

#include "agent/cli/json_output.h"
#include "vigie/v1/agent.pb.h"

namespace vigie::cli {
namespace {

v1::ListUnitsResponse sampleUnits() {
  v1::ListUnitsResponse response;
  v1::Unit* unit = response.add_units();
  unit->set_name("crasher");
  unit->set_state(v1::UNIT_STATE_BACKING_OFF);
  unit->set_total_restarts(4);
  unit->mutable_next_start_time()->set_seconds(1714564800);
  v1::Instance* instance = unit->add_instances();
  instance->set_id(2);
  instance->set_pid(200);
  instance->mutable_exit()->set_kind(v1::EXIT_KIND_DUMPED);
  instance->mutable_exit()->set_signal(11);
  instance->mutable_exit()->set_description("signal SIGSEGV (core dumped)");
  response.add_units()->set_name("idle \"quoted\" \\ name");
  response.mutable_version()->set_epoch(0xfedcba9876543210ULL);
  response.mutable_version()->set_revision(7);
  return response;
}

TEST_CASE("cli json: a document parses back into the same message") {
  const v1::ListUnitsResponse original = sampleUnits();
  const std::string json = toJsonDocument(original);
  CAPTURE(json);
  v1::ListUnitsResponse parsed;
  REQUIRE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok());
  CHECK(google::protobuf::util::MessageDifferencer::Equals(original, parsed));
  CHECK(json.back() == '\n');
}

TEST_CASE("cli json: stable snake_case names, enum names, zero values present") {
  const std::string json = toJsonDocument(sampleUnits());
  CHECK(json.find("\"total_restarts\"") != std::string::npos);
  CHECK(json.find("\"next_start_time\": \"2024-05-01T12:00:00Z\"") != std::string::npos);
  CHECK(json.find("\"UNIT_STATE_BACKING_OFF\"") != std::string::npos);
  CHECK(json.find("\"EXIT_KIND_DUMPED\"") != std::string::npos);
  // The second unit has pid 0: scripts get the key anyway.
  CHECK(json.find("\"pid\": 0") != std::string::npos);
  CHECK(json.find("totalRestarts") == std::string::npos);
}

TEST_CASE("cli json: a stream message is one line") {
  v1::ReadOutputResponse chunk;
  chunk.set_instance_id(3);
  chunk.set_stream(v1::OUTPUT_STREAM_STDERR);
  chunk.set_data(std::string("two\nlines\0binary", 16));
  const std::string line = toJsonLine(chunk);
  CHECK(std::count(line.begin(), line.end(), '\n') == 1);
  CHECK(line.back() == '\n');
  v1::ReadOutputResponse parsed;
  REQUIRE(google::protobuf::util::JsonStringToMessage(line, &parsed).ok());
  CHECK(parsed.data() == chunk.data());
}

}  // namespace
}  // namespace vigie::cli
