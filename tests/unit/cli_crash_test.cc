// vigiectl's crash commands, their human output and their helpers: the list table, a backtrace
// with every thread, `crash show`, --since, and the debugger's command line.
#include <doctest/doctest.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include <string>
#include <vector>

#include "agent/cli/crash_backtrace.h"
#include "agent/cli/crash_details.h"
#include "agent/cli/crash_table.h"
#include "agent/cli/crash_words.h"
#include "agent/cli/debugger.h"
#include "agent/cli/event_lines.h"
#include "agent/cli/node_details.h"

namespace vigie::cli {
namespace {

using std::chrono::seconds;

const WallTime kNow = WallTime{} + seconds(1714564800);  // 2024-05-01 12:00:00 UTC

struct UtcZone {
  UtcZone() {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
};

google::protobuf::Timestamp at(int64_t seconds_since_epoch) {
  google::protobuf::Timestamp out;
  out.set_seconds(seconds_since_epoch);
  return out;
}

v1::CrashSummary summary(const std::string& id, const std::string& unit) {
  v1::CrashSummary crash;
  crash.set_id(id);
  crash.set_unit(unit);
  crash.set_status(v1::INCIDENT_STATUS_COMPLETE);
  crash.set_reason("core-dumped");
  crash.set_signal(11);
  crash.set_signal_name("SIGSEGV");
  *crash.mutable_time() = at(1714564800 - 180);
  crash.set_core_available(true);
  crash.set_core_stored_bytes(1536);
  crash.set_fingerprint("5b1c2d3e4f506172");
  return crash;
}

v1::Backtrace twoThreads() {
  v1::Backtrace backtrace;
  auto* other = backtrace.add_threads();
  other->set_tid(4243);
  auto* sleeping = other->add_frames();
  sleeping->set_pc(0x7f0000001000);
  sleeping->set_module("/usr/lib/x86_64-linux-gnu/libc.so.6");
  sleeping->set_module_offset(0x1000);
  auto* crashed = backtrace.add_threads();
  crashed->set_tid(4242);
  crashed->set_crashed(true);
  const char* functions[] = {"level3", "level2", "main"};
  for (uint32_t i = 0; i < 3; ++i) {
    auto* frame = crashed->add_frames();
    frame->set_index(i);
    frame->set_pc(0x55d1c0a0113d + i);
    frame->set_function(functions[i]);
    frame->set_module("/usr/bin/segv_deep");
    frame->set_file("segv_deep.c");
    frame->set_line(5 + i * 2);
  }
  return backtrace;
}

TEST_CASE("cli crash: the list table, newest first, with counts per fingerprint") {
  UtcZone utc;
  v1::ListCrashesResponse response;
  *response.add_crashes() = summary("20240501T115700Z-4242-9f3a01c2", "web");
  v1::CrashSummary exited = summary("20240501T115000Z-17-00000001", "");
  exited.set_status(v1::INCIDENT_STATUS_NO_CORE);
  exited.set_reason("exited");
  exited.set_signal(0);
  exited.set_signal_name("");
  exited.set_exit_code(3);
  exited.set_core_available(false);
  exited.set_fingerprint("");
  *exited.mutable_time() = at(1714564800 - 600);
  *response.add_crashes() = exited;
  auto* group = response.add_groups();
  group->set_fingerprint("5b1c2d3e4f506172");
  group->set_count(14);
  response.set_matched(2);
  CHECK(
      renderCrashList(response, false, false) ==
      "ID                              TIME                 UNIT    REASON       SIGNAL   STATUS"
      "    CORE     FINGERPRINT  COUNT\n"
      "20240501T115700Z-4242-9f3a01c2  2024-05-01 11:57:00  web     core-dumped  SIGSEGV  complete"
      "  1.5 KiB  5b1c2d3e     14\n"
      "20240501T115000Z-17-00000001    2024-05-01 11:50:00  (node)  exited       exit 3   no-core "
      "  -        -            -\n");
  response.set_matched(40);
  CHECK(renderCrashList(response, false, false)
            .find("(the newest 2 of 40 matching incidents; --limit shows more)") !=
        std::string::npos);
  CHECK(renderCrashList(v1::ListCrashesResponse(), false, false) ==
        "No crash incidents on record.\n");
  CHECK(renderCrashList(v1::ListCrashesResponse(), false, true) ==
        "No crash incident matches these filters.\n");
}

TEST_CASE("cli crash: a backtrace shows every thread, the crashing one first and marked") {
  CHECK(renderBacktrace(twoThreads(), false) ==
        "* thread 4242 (crashed)\n"
        "    #0  0x000055d1c0a0113d  level3  at segv_deep.c:5  in segv_deep\n"
        "    #1  0x000055d1c0a0113e  level2  at segv_deep.c:7  in segv_deep\n"
        "    #2  0x000055d1c0a0113f  main    at segv_deep.c:9  in segv_deep\n"
        "  thread 4243\n"
        "    #0  0x00007f0000001000  ??  in libc.so.6+0x1000\n");
  v1::Backtrace none;
  none.set_error("no core to unwind");
  CHECK(renderBacktrace(none, false) == "No backtrace: no core to unwind\n");
  CHECK(renderCrashingThread(twoThreads(), 1, false) ==
        "* thread 4242 (crashed)\n"
        "    #0  0x000055d1c0a0113d  level3  at segv_deep.c:5  in segv_deep\n"
        "    ... 2 more frame(s)\n");
}

TEST_CASE("cli crash: show puts what, when, why and where first") {
  UtcZone utc;
  v1::GetCrashResponse response;
  v1::CrashIncident& incident = *response.mutable_incident();
  incident.set_id("20240501T115700Z-4242-9f3a01c2");
  incident.set_status(v1::INCIDENT_STATUS_COMPLETE);
  incident.set_unit("web");
  incident.set_instance_id(3);
  incident.set_restart_count(2);
  incident.set_reason("core-dumped");
  incident.set_signal_name("SIGSEGV");
  incident.set_pid(4242);
  incident.set_exe("/usr/bin/segv_deep");
  incident.add_cmdline("/usr/bin/segv_deep");
  incident.add_cmdline("--port=80");
  *incident.mutable_ended() = at(1714564800 - 180);
  incident.mutable_uptime()->set_seconds(42);
  incident.set_fingerprint("5b1c2d3e4f506172");
  incident.set_core_stored_bytes(1536);
  incident.set_core_raw_bytes(3 << 20);
  incident.set_stdout_tail("one\ntwo\nthree\n");
  *incident.mutable_backtrace() = twoThreads();
  response.mutable_summary()->set_core_available(true);
  response.mutable_summary()->set_crashing_function("level3");
  response.mutable_group()->set_count(1);
  response.mutable_report()->set_signal(11);
  response.mutable_report()->set_signal_code(1);
  response.mutable_report()->set_has_signal_info(true);
  response.set_environ_withheld(true);
  const std::string text = renderCrashDetails(response, kNow, false);
  CHECK(text.rfind("Crash:        20240501T115700Z-4242-9f3a01c2\n"
                   "Status:       complete\n"
                   "Unit:         web, instance 3 (2 restart(s) in its run of failures)\n"
                   "Time:         2024-05-01 11:57:00 (3m ago), after running 42s\n"
                   "Reason:       core-dumped: SIGSEGV, address not mapped (SEGV_MAPERR) at 0x0\n"
                   "Crashed in:   level3\n"
                   "Process:      pid 4242, /usr/bin/segv_deep\n"
                   "Command:      /usr/bin/segv_deep --port=80\n"
                   "Fingerprint:  5b1c2d3e4f506172 (the only crash of its kind on record)\n"
                   "Core:         1.5 KiB compressed (3.0 MiB raw): `vigiectl crash gdb "
                   "20240501T115700Z-4242-9f3a01c2` opens it in gdb\n",
                   0) == 0);
  CHECK(text.find("Environment:  withheld: admin callers only") != std::string::npos);
  CHECK(text.find("* thread 4242 (crashed)\n    #0  0x000055d1c0a0113d  level3") !=
        std::string::npos);
  CHECK(text.find("thread 4243") == std::string::npos);  // show: the crashing thread only
  CHECK(text.find("Last output on stdout:\n  one\n  two\n  three\n") != std::string::npos);
}

TEST_CASE("cli crash: the last lines of a tail, control bytes made visible") {
  CHECK(tailLines("a\nb\nc\nd\n", 2) == "  c\n  d\n");
  CHECK(tailLines("only", 5) == "  only\n");
  CHECK(tailLines("bell\x07\n", 5) == "  bell\\x07\n");
  CHECK(tailLines("", 5) == "");
}

TEST_CASE("cli crash: --since takes a length of time or a time") {
  UtcZone utc;
  CHECK(*parseSince("2h", kNow) == kNow - std::chrono::hours(2));
  CHECK(*parseSince("3d", kNow) == kNow - std::chrono::hours(72));
  CHECK(*parseSince("90s", kNow) == kNow - seconds(90));
  CHECK(*parseSince("2024-05-01", kNow) == WallTime{} + seconds(1714521600));
  CHECK(*parseSince("2024-05-01 11:30", kNow) == WallTime{} + seconds(1714563000));
  CHECK(*parseSince("2024-05-01T11:30:15Z", kNow) == WallTime{} + seconds(1714563015));
  CHECK_FALSE(parseSince("2999-01-01", kNow).ok());  // past what the clock can count
  const auto bad = parseSince("yesterday", kNow);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("neither a length of time") != std::string::npos);
}

TEST_CASE("cli crash: words for statuses, cores, units and signals") {
  v1::CrashSummary crash = summary("x", "web");
  CHECK(crashCoreText(crash) == "1.5 KiB");
  crash.set_core_available(false);
  crash.set_core_state(v1::CORE_STATE_RATE_LIMITED);
  CHECK(crashCoreText(crash) == "rate-limited");
  crash.set_core_removed(true);
  CHECK(crashCoreText(crash) == "removed");
  crash.set_descendant(true);
  CHECK(crashUnitText(crash) == "web (child)");
  CHECK(shortFingerprint("5b1c2d3e4f506172") == "5b1c2d3e");
  CHECK(crashStatusName(v1::INCIDENT_STATUS_TIMED_OUT) == "timed-out");
  CHECK(signalCodeText(SIGFPE, FPE_INTDIV) == "integer divide by zero (FPE_INTDIV)");
  CHECK(signalCodeText(SIGABRT, SI_TKILL) == "sent by tkill or raise (SI_TKILL)");
}

TEST_CASE("cli crash: crash events in vigiectl events") {
  UtcZone utc;
  v1::Event event;
  *event.mutable_time() = at(1714564800);
  v1::CrashSummary crash = summary("20240501T115700Z-4242-9f3a01c2", "web");
  crash.set_crashing_function("level3");
  crash.set_status(v1::INCIDENT_STATUS_PENDING);
  *event.mutable_crash_opened()->mutable_crash() = crash;
  CHECK(formatEvent(event, false, 3) ==
        "2024-05-01 12:00:00.000  web  crash 20240501T115700Z-4242-9f3a01c2 opened: SIGSEGV in "
        "level3 (core-dumped), capturing the core\n");
  crash.set_status(v1::INCIDENT_STATUS_COMPLETE);
  *event.mutable_crash_completed()->mutable_crash() = crash;
  CHECK(formatEvent(event, false, 3) ==
        "2024-05-01 12:00:00.000  web  crash 20240501T115700Z-4242-9f3a01c2 complete: SIGSEGV in "
        "level3 (core-dumped), core 1.5 KiB (vigiectl crash show "
        "20240501T115700Z-4242-9f3a01c2)\n");
}

TEST_CASE("cli crash: the debugger's command line and where the program is") {
  CHECK(splitCommand("gdb -batch  -ex bt") ==
        std::vector<std::string>{"gdb", "-batch", "-ex", "bt"});
  CHECK(splitCommand("  ").empty());
  CHECK(findProgram("sh").has_value());
  CHECK(findProgram("/bin/sh") == std::optional<std::string>("/bin/sh"));
  CHECK_FALSE(findProgram("vigie-no-such-debugger").has_value());
  CHECK_FALSE(findProgram("/nonexistent/gdb").has_value());
  const auto ran = runForeground({"/bin/sh", "-c", "exit 7"});
  REQUIRE(ran.ok());
  CHECK(*ran == 7);
}

TEST_CASE("cli crash: node shows whether cores reach vigie") {
  v1::GetNodeResponse node;
  node.mutable_core_pattern()->set_managed(true);
  node.mutable_core_pattern()->set_installed(true);
  node.mutable_core_pattern()->set_drift(true);
  node.mutable_core_pattern()->set_current("core");
  CHECK(renderNode(node, kNow)
            .find("Cores:       DRIFT: \"core\" replaced vigie's helper: cores "
                  "no longer reach vigie\n") != std::string::npos);
  node.mutable_core_pattern()->set_drift(false);
  node.mutable_core_pattern()->set_expected("|/usr/libexec/vigie/vigie-coredump %P");
  CHECK(renderNode(node, kNow)
            .find("Cores:       vigie's helper \"|/usr/libexec/vigie/vigie-coredump "
                  "%P\"\n") != std::string::npos);
}

}  // namespace
}  // namespace vigie::cli
