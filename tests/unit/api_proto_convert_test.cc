// Conversions from API views to vigie.v1 messages.
#include <doctest/doctest.h>

#include <csignal>

#include "agent/api/proto_convert.h"

namespace vigie {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST_CASE("api convert: timestamps keep nanos within 0..1e9, before 1970 too") {
  auto ts = toTimestamp(WallTime{} + seconds(1700000000) + nanoseconds(123456789));
  CHECK(ts.seconds() == 1700000000);
  CHECK(ts.nanos() == 123456789);
  ts = toTimestamp(WallTime{} - milliseconds(1500));
  CHECK(ts.seconds() == -2);
  CHECK(ts.nanos() == 500000000);
}

TEST_CASE("api convert: durations carry the sign in both seconds and nanos") {
  auto d = toDuration(milliseconds(2500));
  CHECK(d.seconds() == 2);
  CHECK(d.nanos() == 500000000);
  d = toDuration(milliseconds(-1500));
  CHECK(d.seconds() == -1);
  CHECK(d.nanos() == -500000000);
}

TEST_CASE("api convert: every unit state has its prefixed enum value") {
  CHECK(toProto(UnitState::kStopped) == v1::UNIT_STATE_STOPPED);
  CHECK(toProto(UnitState::kStarting) == v1::UNIT_STATE_STARTING);
  CHECK(toProto(UnitState::kRunning) == v1::UNIT_STATE_RUNNING);
  CHECK(toProto(UnitState::kStopping) == v1::UNIT_STATE_STOPPING);
  CHECK(toProto(UnitState::kBackingOff) == v1::UNIT_STATE_BACKING_OFF);
  CHECK(toProto(UnitState::kFailed) == v1::UNIT_STATE_FAILED);
  CHECK(toProto(UnitState::kExited) == v1::UNIT_STATE_EXITED);
}

TEST_CASE("api convert: exit details of a core dump and of a failed spawn") {
  ExitView exit;
  exit.kind = ExitView::Kind::kDumped;
  exit.signal = SIGSEGV;
  exit.description = "signal SIGSEGV (core dumped)";
  exit.at = WallTime{} + seconds(100);
  exit.runtime = milliseconds(1250);
  exit.user_cpu = milliseconds(20);
  exit.max_rss_bytes = 4096 * 1024;
  v1::ExitDetails out;
  fillExit(exit, &out);
  CHECK(out.kind() == v1::EXIT_KIND_DUMPED);
  CHECK(out.signal() == SIGSEGV);
  CHECK_FALSE(out.success());
  CHECK(out.time().seconds() == 100);
  CHECK(out.runtime().seconds() == 1);
  CHECK(out.runtime().nanos() == 250000000);
  CHECK(out.usage().user_cpu().nanos() == 20000000);
  CHECK(out.usage().max_rss_bytes() == 4096 * 1024);

  ExitView failed;
  failed.kind = ExitView::Kind::kSpawnFailed;
  failed.spawn_error = "exec /nope: No such file or directory";
  v1::ExitDetails failed_out;
  fillExit(failed, &failed_out);
  CHECK(failed_out.kind() == v1::EXIT_KIND_SPAWN_FAILED);
  CHECK(failed_out.spawn_error() == failed.spawn_error);
  CHECK_FALSE(failed_out.has_usage());
  CHECK_FALSE(failed_out.has_runtime());
}

TEST_CASE("api convert: a unit's next start becomes wall time through the snapshot's clock") {
  UnitEntry entry;
  entry.revision = 7;
  entry.view.name = "web";
  entry.view.state = UnitState::kBackingOff;
  const ClockMapping clock{MonoTime{} + seconds(50), WallTime{} + seconds(1000)};
  entry.view.next_start = MonoTime{} + seconds(52);
  v1::Unit out;
  fillUnit(entry, clock, kAllInstances, &out);
  CHECK(out.name() == "web");
  CHECK(out.revision() == 7);
  CHECK(out.state() == v1::UNIT_STATE_BACKING_OFF);
  CHECK(out.next_start_time().seconds() == 1002);

  entry.view.next_start.reset();
  v1::Unit without;
  fillUnit(entry, clock, kAllInstances, &without);
  CHECK_FALSE(without.has_next_start_time());
}

TEST_CASE("api convert: unit config") {
  UnitConfigView config;
  config.exec = {"/usr/bin/web", "--port", "80"};
  config.user = "www";
  config.restart_policy = RestartPolicyKind::kOnFailure;
  config.file = "/etc/vigie/workloads.d/web.yaml";
  config.line = 3;
  v1::UnitConfig out;
  fillUnitConfig(config, &out);
  CHECK(out.exec_size() == 3);
  CHECK(out.exec(2) == "80");
  CHECK(out.user() == "www");
  CHECK(out.restart_policy() == v1::RESTART_POLICY_ON_FAILURE);
  CHECK(out.source().file() == config.file);
  CHECK(out.source().line() == 3);
}

}  // namespace
}  // namespace vigie
