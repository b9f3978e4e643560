// heartbeat_size: the serialized size of Heartbeat answers, in bytes, for nodes of 1, 20 and
// 100 units: an idle poll (nothing changed), a poll after one unit crashed and restarted, a
// full state, and an idle poll with the node's usage gauges (read from this host's /proc).
//
// Units look like busy production ones: each keeps a history of five ended instances with exit
// details (heartbeats carry the latest two; GetUnit all of them).
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "agent/api/heartbeat.h"
#include "agent/api/proc_usage.h"
#include "agent/api/snapshot_publisher.h"

namespace vigie {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const WallTime kNow = WallTime{} + seconds(1767225600);  // 2026-01-01

InstanceView endedInstance(uint64_t id, int n) {
  InstanceView instance;
  instance.id = id;
  instance.pid = 40000 + static_cast<pid_t>(id) * 7 + n;
  instance.started = kNow - seconds(3600) + seconds(id * 60);
  ExitView exit;
  if (id % 2 == 0) {
    exit.kind = ExitView::Kind::kDumped;
    exit.signal = SIGSEGV;
    exit.description = "signal SIGSEGV (core dumped)";
  } else {
    exit.kind = ExitView::Kind::kExited;
    exit.code = 1;
    exit.description = "exit code 1";
  }
  exit.at = instance.started + seconds(42) + milliseconds(137);
  exit.runtime = seconds(42) + milliseconds(137);
  exit.user_cpu = milliseconds(1234);
  exit.system_cpu = milliseconds(321);
  exit.max_rss_bytes = uint64_t{48} * 1024 * 1024;
  instance.exit = exit;
  return instance;
}

UnitView busyUnit(int n, uint64_t instances) {
  UnitView view;
  view.name = "service-" + std::to_string(1000 + n).substr(1);
  view.state = UnitState::kRunning;
  view.restart_count = 1;
  view.total_restarts = instances - 1;
  const uint64_t first = instances > 6 ? instances - 5 : 1;
  for (uint64_t id = first; id < instances; ++id) {
    view.instances.push_back(endedInstance(id, n));
  }
  InstanceView current;
  current.id = instances;
  current.pid = 50000 + n;
  current.started = kNow - seconds(5);
  view.instances.push_back(current);
  view.pid = current.pid;
  view.config.exec = {"/usr/bin/" + view.name, "--listen", "0.0.0.0:8080"};
  view.config.file = "/etc/vigie/workloads.d/" + view.name + ".yaml";
  view.config.line = 1;
  return view;
}

// The same unit after one more crash and the immediate restart.
UnitView crashedAndRestarted(UnitView view) {
  InstanceView& last = view.instances.back();
  ExitView exit;
  exit.kind = ExitView::Kind::kDumped;
  exit.signal = SIGSEGV;
  exit.description = "signal SIGSEGV (core dumped)";
  exit.at = kNow;
  exit.runtime = seconds(5);
  last.exit = exit;
  InstanceView next;
  next.id = last.id + 1;
  next.pid = last.pid + 1;
  next.started = kNow + milliseconds(2);
  if (view.instances.size() >= 6) {
    view.instances.erase(view.instances.begin());
  }
  view.instances.push_back(next);
  view.pid = next.pid;
  ++view.restart_count;
  ++view.total_restarts;
  return view;
}

size_t pollSize(const SnapshotPublisher& publisher, const v1::HeartbeatRequest& request,
                UsageSource* usage) {
  return buildHeartbeat(*publisher.current(), request, usage).ByteSizeLong();
}

void measure(int unit_count, ProcUsageReader& usage) {
  SnapshotPublisher publisher(newAgentEpoch());
  const ClockMapping clock{MonoTime{} + seconds(100000), kNow};
  std::vector<UnitView> units;
  for (int n = 0; n < unit_count; ++n) {
    units.push_back(busyUnit(n, 12));
  }
  publisher.publish(units, clock);

  v1::HeartbeatRequest request;
  request.mutable_since()->set_epoch(publisher.current()->epoch);
  request.mutable_since()->set_revision(publisher.current()->revision);
  const size_t idle = pollSize(publisher, request, nullptr);
  request.set_with_usage(true);
  const size_t idle_usage = pollSize(publisher, request, &usage);
  request.set_with_usage(false);

  units[0] = crashedAndRestarted(units[0]);
  publisher.publish(units, clock);
  const size_t one_change = pollSize(publisher, request, nullptr);
  const size_t full = pollSize(publisher, v1::HeartbeatRequest{}, nullptr);

  std::printf("%5d  %6zu  %10zu  %10zu  %10zu\n", unit_count, idle, idle_usage, one_change, full);
}

}  // namespace
}  // namespace vigie

int main() {
  vigie::ProcUsageReader usage("/");
  std::printf("Heartbeat response sizes in bytes (serialized protobuf)\n");
  std::printf("units    idle  idle+usage  one-change        full\n");
  for (int units : {1, 20, 100}) {
    vigie::measure(units, usage);
  }
  return 0;
}
