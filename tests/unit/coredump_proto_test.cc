// vigie-coredump: crash.proto against its checked-in wire contract (proto/README.md).
#include <doctest/doctest.h>

#include "agent/api/wire_compat.h"
#include "proto/descriptor_snapshot.h"
#include "vigie/v1/crash.pb.h"

namespace vigie {
namespace {

TEST_CASE("coredump proto: crash.proto is wire compatible with its checked-in descriptor") {
  auto snapshot = parseDescriptorSetText(v1::checkedInCrashDescriptorText());
  REQUIRE_MESSAGE(snapshot.ok(), (snapshot.ok() ? "" : snapshot.error().message));
  REQUIRE(snapshot->file_size() == 1);
  CHECK(snapshot->file(0).name() == "vigie/v1/crash.proto");
  google::protobuf::FileDescriptorSet compiled;
  v1::CaptureReport::descriptor()->file()->CopyTo(compiled.add_file());
  const auto breaks = wireCompatibilityBreaks(*snapshot, compiled);
  for (const auto& line : breaks) {
    MESSAGE(line);
  }
  CHECK(breaks.empty());
  // The snapshot is not empty: the check sees the messages.
  CHECK(snapshot->file(0).message_type_size() >= 10);
}

}  // namespace
}  // namespace vigie
