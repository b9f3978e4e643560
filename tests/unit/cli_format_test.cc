// vigiectl's human output: durations, sizes, tables, status, unit details, node, events, reload.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <time.h>

#include <string>
#include <vector>

#include "agent/cli/event_lines.h"
#include "agent/cli/human.h"
#include "agent/cli/node_details.h"
#include "agent/cli/reload_text.h"
#include "agent/cli/status_table.h"
#include "agent/cli/table.h"
#include "agent/cli/unit_details.h"
#include "agent/cli/unit_sentence.h"
#include "agent/cli/unit_words.h"

namespace vigie::cli {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A fixed "now": 2024-05-01 12:00:00 UTC.
const WallTime kNow = WallTime{} + seconds(1714564800);

google::protobuf::Timestamp at(WallTime time) {
  google::protobuf::Timestamp out;
  const auto since = time.time_since_epoch();
  const auto whole = std::chrono::floor<seconds>(since);
  out.set_seconds(whole.count());
  out.set_nanos(static_cast<int32_t>(std::chrono::nanoseconds(since - whole).count()));
  return out;
}

google::protobuf::Duration span(Duration d) {
  google::protobuf::Duration out;
  out.set_seconds(std::chrono::duration_cast<seconds>(d).count());
  out.set_nanos(static_cast<int32_t>((d - std::chrono::duration_cast<seconds>(d)).count()));
  return out;
}

// Local times in these tests read as UTC.
struct UtcZone {
  UtcZone() {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
};

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    out.push_back(text.substr(start, end - start));
    start = end == std::string::npos ? text.size() : end + 1;
  }
  return out;
}

v1::Unit runningUnit(const std::string& name, int pid, Duration up) {
  v1::Unit unit;
  unit.set_name(name);
  unit.set_state(v1::UNIT_STATE_RUNNING);
  unit.set_pid(pid);
  v1::Instance* instance = unit.add_instances();
  instance->set_id(1);
  instance->set_pid(pid);
  *instance->mutable_start_time() = at(kNow - up);
  return unit;
}

// A unit whose instance 2 died of SIGSEGV 3 minutes ago and that waits 4.2s for its restart.
v1::Unit crashedUnit() {
  v1::Unit unit;
  unit.set_name("crasher");
  unit.set_state(v1::UNIT_STATE_BACKING_OFF);
  unit.set_total_restarts(4);
  unit.set_restart_count(2);
  *unit.mutable_next_start_time() = at(kNow + milliseconds(4200));
  v1::Instance* older = unit.add_instances();
  older->set_id(1);
  older->set_pid(100);
  *older->mutable_start_time() = at(kNow - std::chrono::minutes(10));
  v1::ExitDetails* first = older->mutable_exit();
  first->set_kind(v1::EXIT_KIND_EXITED);
  first->set_code(1);
  *first->mutable_time() = at(kNow - std::chrono::minutes(9));
  v1::Instance* latest = unit.add_instances();
  latest->set_id(2);
  latest->set_pid(200);
  *latest->mutable_start_time() = at(kNow - seconds(183));
  v1::ExitDetails* exit = latest->mutable_exit();
  exit->set_kind(v1::EXIT_KIND_DUMPED);
  exit->set_signal(11);
  exit->set_description("signal SIGSEGV (core dumped)");
  *exit->mutable_time() = at(kNow - seconds(180));
  *exit->mutable_runtime() = span(seconds(3));
  exit->mutable_usage()->set_max_rss_bytes(3 * 1024 * 1024 + 200 * 1024);
  *exit->mutable_usage()->mutable_user_cpu() = span(milliseconds(120));
  *exit->mutable_usage()->mutable_system_cpu() = span(milliseconds(30));
  return unit;
}

TEST_CASE("cli human: durations keep a useful precision at every scale") {
  CHECK(humanDuration(milliseconds(350)) == "350ms");
  CHECK(humanDuration(milliseconds(4200)) == "4.2s");
  CHECK(humanDuration(milliseconds(9999)) == "9.9s");
  CHECK(humanDuration(seconds(42)) == "42s");
  CHECK(humanDuration(seconds(192)) == "3m12s");
  CHECK(humanDuration(std::chrono::minutes(125)) == "2h5m");
  CHECK(humanDuration(std::chrono::hours(76)) == "3d4h");
  CHECK(humanDuration(Duration::zero()) == "0ms");
}

TEST_CASE("cli human: ago and until are relative to the given now") {
  CHECK(humanAgo(kNow - milliseconds(300), kNow) == "just now");
  CHECK(humanAgo(kNow + seconds(2), kNow) == "just now");
  CHECK(humanAgo(kNow - seconds(42), kNow) == "42s ago");
  CHECK(humanAgo(kNow - seconds(200), kNow) == "3m ago");
  CHECK(humanAgo(kNow - std::chrono::hours(5), kNow) == "5h ago");
  CHECK(humanAgo(kNow - std::chrono::hours(50), kNow) == "2d ago");
  CHECK(humanUntil(kNow + milliseconds(4200), kNow) == "in 4.2s");
  CHECK(humanUntil(kNow - seconds(1), kNow) == "now");
}

TEST_CASE("cli human: sizes in binary units with three significant digits") {
  CHECK(humanBytes(0) == "0 B");
  CHECK(humanBytes(512) == "512 B");
  CHECK(humanBytes(1536) == "1.5 KiB");
  CHECK(humanBytes(3ULL * 1024 * 1024 * 1024 + 214748364) == "3.2 GiB");
  CHECK(humanBytes(152ULL * 1024 * 1024 * 1024) == "152 GiB");
}

TEST_CASE("cli human: local times to the second, and to the millisecond for events") {
  UtcZone utc;
  CHECK(localTime(kNow) == "2024-05-01 12:00:00");
  CHECK(localTimeMillis(kNow + milliseconds(120)) == "2024-05-01 12:00:00.120");
  CHECK(fromProto(at(kNow + milliseconds(5))) == kNow + milliseconds(5));
}

TEST_CASE("cli table: columns line up on the widest cell, no trailing blanks") {
  Table table({"A", "LONGER", "C"});
  table.addRow({{"wide-cell"}, {"x"}, {""}});
  table.addRow({{"b"}, {"yy"}, {"last"}});
  const auto out = lines(table.render(false));
  REQUIRE(out.size() == 3);
  CHECK(out[0] == "A          LONGER  C");
  CHECK(out[1] == "wide-cell  x");
  CHECK(out[2] == "b          yy      last");
}

TEST_CASE("cli table: colours do not move the columns") {
  Table table({"STATE", "PID"});
  table.addRow({{"running", Style::kGood}, {"12"}});
  table.addRow({{"failed", Style::kBad}, {"-"}});
  const auto out = lines(table.render(true));
  REQUIRE(out.size() == 3);
  CHECK(out[1] == "\033[32mrunning\033[0m  12");
  CHECK(out[2] == "\033[1;31mfailed\033[0m   -");
  CHECK(styled("x", Style::kBad, false) == "x");
}

TEST_CASE("cli status: one aligned line per unit with uptime, last exit and next restart") {
  v1::ListUnitsResponse response;
  *response.add_units() = runningUnit("web", 1234, seconds(192));
  *response.add_units() = crashedUnit();
  const std::string text = renderStatus(response, kNow, false);
  const auto out = lines(text);
  REQUIRE(out.size() == 3);
  CHECK(out[0] ==
        "UNIT     STATE        PID   UPTIME  RESTARTS  LAST EXIT                            "
        "NEXT RESTART");
  CHECK(out[1] ==
        "web      running      1234  3m12s   0         -                                    -");
  CHECK(
      out[2] ==
      "crasher  backing-off  -     -       4         signal SIGSEGV (core dumped) 3m ago  in 4.2s");
  // On a TTY the state is coloured, and nothing else changes.
  CHECK(renderStatus(response, kNow, true).find("\033[32mrunning\033[0m") != std::string::npos);
}

TEST_CASE("cli status: an empty config says so") {
  const std::string text = renderStatus(v1::ListUnitsResponse(), kNow, false);
  CHECK(text.find("No units") == 0);
}

TEST_CASE("cli words: exit reasons come from the agent, or from the details") {
  v1::ExitDetails exit;
  exit.set_kind(v1::EXIT_KIND_EXITED);
  exit.set_code(3);
  CHECK(exitReason(exit) == "exit code 3");
  exit.set_kind(v1::EXIT_KIND_DUMPED);
  exit.set_signal(6);
  CHECK(exitReason(exit) == "signal SIGABRT (core dumped)");
  exit.set_kind(v1::EXIT_KIND_SPAWN_FAILED);
  exit.set_spawn_error("exec /nope: No such file or directory");
  CHECK(exitReason(exit) == "could not start: exec /nope: No such file or directory");
  exit.set_description("the agent's words");
  CHECK(exitReason(exit) == "the agent's words");
  CHECK(stateName(v1::UNIT_STATE_BACKING_OFF) == "backing-off");
  CHECK(stateStyle(v1::UNIT_STATE_FAILED) == Style::kBad);
}

TEST_CASE("cli unit show: state, counters, config and every instance with its exit") {
  UtcZone utc;
  v1::GetUnitResponse response;
  *response.mutable_unit() = crashedUnit();
  v1::UnitConfig* config = response.mutable_config();
  config->add_exec("/usr/bin/crasher");
  config->add_exec("--mode");
  config->add_exec("it's broken");
  config->set_restart_policy(v1::RESTART_POLICY_ALWAYS);
  config->mutable_source()->set_file("/etc/vigie/vigie.yaml");
  config->mutable_source()->set_line(12);
  config->mutable_source()->set_column(5);
  const std::string text = renderUnitDetails(response, kNow, false);
  CAPTURE(text);
  CHECK(text.find("Unit:          crasher\n") != std::string::npos);
  CHECK(text.find("State:         backing-off\n") != std::string::npos);
  CHECK(text.find("Next start:    in 4.2s\n") != std::string::npos);
  CHECK(text.find("4 since the agent started, 2 in the current run of failures") !=
        std::string::npos);
  CHECK(text.find("  exec:        /usr/bin/crasher --mode 'it'\\''s broken'\n") !=
        std::string::npos);
  CHECK(text.find("  restart:     always\n") != std::string::npos);
  CHECK(text.find("  declared:    /etc/vigie/vigie.yaml:12:5\n") != std::string::npos);
  CHECK(text.find("  ID  PID  STARTED              RAN   EXIT") != std::string::npos);
  CHECK(text.find("  2   200  2024-05-01 11:56:57  3.0s  signal SIGSEGV (core dumped), 3m ago  "
                  "120ms     30ms     3.2 MiB") != std::string::npos);
  CHECK(text.find("  1   100  2024-05-01 11:50:00  -     exit code 1, 9m ago") !=
        std::string::npos);
}

TEST_CASE("cli unit show: a running instance shows its uptime") {
  v1::GetUnitResponse response;
  *response.mutable_unit() = runningUnit("web", 77, seconds(42));
  const std::string text = renderUnitDetails(response, kNow, false);
  CHECK(text.find("State:         running, pid 77, up 42s\n") != std::string::npos);
  CHECK(text.find("  42s  running") != std::string::npos);
}

TEST_CASE("cli unit sentence: what a command left the unit in") {
  CHECK(unitSentence(runningUnit("web", 9, seconds(1)), kNow, false) == "web: running, pid 9\n");
  CHECK(unitSentence(crashedUnit(), kNow, false) == "crasher: backing-off, next start in 4.2s\n");
}

TEST_CASE("cli shell join: quotes only what needs it") {
  CHECK(shellJoin({"nginx", "-g", "daemon off;"}) == "nginx -g 'daemon off;'");
  CHECK(shellJoin({"a", ""}) == "a ''");
}

TEST_CASE("cli node: identity, usage with human sizes, pressure and the agent") {
  UtcZone utc;
  v1::GetNodeResponse response;
  v1::NodeInfo* node = response.mutable_node();
  node->set_hostname("node-7");
  node->set_kernel_release("6.1.0-18-amd64");
  node->set_architecture("x86_64");
  node->set_boot_id("b00t");
  node->set_cgroup_layout(v1::CGROUP_LAYOUT_UNIFIED);
  node->set_psi_available(true);
  node->set_cpu_count(2);
  node->set_agent_version("0.1.0");
  node->set_agent_epoch(0xabcULL);
  *node->mutable_agent_start_time() = at(kNow - std::chrono::minutes(125));
  v1::NodeUsage* usage = response.mutable_usage();
  usage->mutable_load()->set_load1(0.5f);
  usage->mutable_load()->set_load5(0.25f);
  usage->mutable_load()->set_load15(1.0f);
  usage->mutable_memory()->set_total_bytes(4ULL << 30);
  usage->mutable_memory()->set_available_bytes(1ULL << 30);
  usage->mutable_cpu_pressure()->mutable_some()->set_avg10(1.5f);
  usage->mutable_state_disk()->set_path("/var/lib/vigie");
  usage->mutable_state_disk()->set_total_bytes(40ULL << 30);
  usage->mutable_state_disk()->set_available_bytes(30ULL << 30);
  *usage->mutable_uptime() = span(std::chrono::hours(76));
  const std::string text = renderNode(response, kNow);
  CAPTURE(text);
  CHECK(text.find("Hostname:    node-7\n") != std::string::npos);
  CHECK(text.find("Cgroups:     unified (v2)\n") != std::string::npos);
  CHECK(text.find("Uptime:      3d4h\n") != std::string::npos);
  CHECK(text.find("CPUs:        2, load 0.50 0.25 1.00\n") != std::string::npos);
  CHECK(text.find("Memory:      1.0 GiB available of 4.0 GiB (75% used); no swap\n") !=
        std::string::npos);
  CHECK(text.find("  cpu:       some 1.50 0.00 0.00\n") != std::string::npos);
  CHECK(text.find("State disk:  /var/lib/vigie: 30.0 GiB available of 40.0 GiB (25% used)\n") !=
        std::string::npos);
  CHECK(text.find("Agent:       vigied 0.1.0, up 2h5m (since 2024-05-01 09:55:00), epoch "
                  "0000000000000abc\n") != std::string::npos);
}

TEST_CASE("cli events: one line per event with its time, unit and what happened") {
  UtcZone utc;
  v1::Event exited;
  *exited.mutable_time() = at(kNow + milliseconds(120));
  v1::InstanceExited* payload = exited.mutable_instance_exited();
  payload->set_unit("crasher");
  *payload->mutable_instance() = crashedUnit().instances(1);
  payload->set_restart(v1::RESTART_ACTION_LATER);
  *payload->mutable_restart_delay() = span(milliseconds(480));
  CHECK(formatEvent(exited, false) ==
        "2024-05-01 12:00:00.120  crasher  instance 2 ended: signal SIGSEGV (core dumped) after "
        "3.0s; restart in 480ms\n");

  v1::Event changed;
  *changed.mutable_time() = at(kNow);
  v1::UnitStateChanged* change = changed.mutable_unit_state_changed();
  change->set_unit("crasher");
  change->set_old_state(v1::UNIT_STATE_RUNNING);
  change->set_new_state(v1::UNIT_STATE_BACKING_OFF);
  *change->mutable_next_start_time() = at(kNow + milliseconds(480));
  CHECK(formatEvent(changed, false) ==
        "2024-05-01 12:00:00.000  crasher  running -> backing-off, next start in 480ms\n");
  // Padded to the longest unit name, so that the lines of several units line up.
  CHECK(formatEvent(changed, false, 10) ==
        "2024-05-01 12:00:00.000  crasher     running -> backing-off, next start in 480ms\n");

  v1::Event reload;
  *reload.mutable_time() = at(kNow);
  reload.mutable_config_reloaded()->set_applied(false);
  reload.mutable_config_reloaded()->set_error_count(2);
  CHECK(formatEvent(reload, false) ==
        "2024-05-01 12:00:00.000  -  config reload rejected: 2 error(s), nothing changed\n");
}

TEST_CASE("cli events: the history kept, as starts and exits in time order") {
  std::vector<v1::Unit> units = {crashedUnit(), runningUnit("web", 5, seconds(1))};
  const std::vector<v1::Event> events = eventsFromHistory(units);
  REQUIRE(events.size() == 5);
  CHECK(events[0].instance_started().instance_id() == 1);
  CHECK(events[1].instance_exited().instance().id() == 1);
  CHECK(events[2].instance_started().instance_id() == 2);
  CHECK(events[3].instance_exited().instance().id() == 2);
  CHECK(events[4].instance_started().unit() == "web");
}

TEST_CASE("cli reload: a summary that names what changed, errors as file:line:col") {
  v1::ReloadSummary summary;
  summary.add_added("web");
  summary.add_restarted("api");
  summary.add_unchanged("a");
  summary.add_unchanged("b");
  CHECK(describeReloadSummary(summary) == "1 added (web), 1 restarted (api), 2 unchanged");
  CHECK(describeReloadSummary(v1::ReloadSummary()) == "nothing changed");

  v1::ReloadConfigResponse response;
  v1::ConfigError* error = response.add_errors();
  error->mutable_location()->set_file("/etc/vigie/vigie.yaml");
  error->mutable_location()->set_line(7);
  error->mutable_location()->set_column(14);
  error->set_message("unknown key \"exce\"");
  CHECK(renderConfigErrors(response) == "/etc/vigie/vigie.yaml:7:14: unknown key \"exce\"\n");
}

}  // namespace
}  // namespace vigie::cli
