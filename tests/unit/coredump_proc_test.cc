// vigie-coredump: /proc/PID parsers on captured text, and the reader on a live process.
#include <doctest/doctest.h>
#include <unistd.h>

#include <string>

#include "agent/coredump/proc_parsers.h"
#include "agent/coredump/proc_reader.h"

namespace vigie::coredump {
namespace {

using namespace std::string_literals;

TEST_CASE("coredump proc: stat with spaces and parentheses in the comm") {
  const std::string text =
      "4242 (my (odd) app) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 1174549 "
      "12345 67 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  const auto stat = parseProcStat(text);
  REQUIRE(stat.has_value());
  CHECK(stat->comm == "my (odd) app");
  CHECK(stat->state == 'S');
  CHECK(stat->ppid == 1);
  CHECK(stat->pgid == 4242);
  CHECK(stat->session == 4242);
  CHECK(stat->start_ticks == 1174549);
  CHECK_FALSE(parseProcStat("4242 (short) S 1 2").has_value());
  CHECK_FALSE(parseProcStat("garbage").has_value());
}

TEST_CASE("coredump proc: status ids, threads and NSpid") {
  const std::string text =
      "Name:\tcrashme\nUmask:\t0022\nState:\tD (disk sleep)\nTgid:\t9001\nNSpid:\t9001\t1\n"
      "Uid:\t1000\t1001\t1000\t1000\nGid:\t100\t101\t100\t100\nThreads:\t3\n";
  const auto status = parseProcStatus(text);
  REQUIRE(status.has_value());
  CHECK(status->name == "crashme");
  CHECK(status->uid == 1000);
  CHECK(status->euid == 1001);
  CHECK(status->gid == 100);
  CHECK(status->egid == 101);
  CHECK(status->threads == 3);
  CHECK(status->ns_pids == std::vector<pid_t>{9001, 1});
  CHECK_FALSE(parseProcStatus("Name:\tx\n").has_value());
}

TEST_CASE("coredump proc: NUL lists, limits, maps, btime, exe links") {
  CHECK(splitNulList("a\0b c\0\0d\0"s) == std::vector<std::string>{"a", "b c", "", "d"});
  CHECK(splitNulList("no-final-nul"s) == std::vector<std::string>{"no-final-nul"});
  CHECK(splitNulList("").empty());

  const std::string limits =
      "Limit                     Soft Limit           Hard Limit           Units     \n"
      "Max cpu time              unlimited            unlimited            seconds   \n"
      "Max core file size        0                    unlimited            bytes     \n"
      "Max nice priority         0                    0                    \n";
  const auto parsed = parseProcLimits(limits);
  REQUIRE(parsed.size() == 3);
  CHECK(parsed[0].name() == "Max cpu time");
  CHECK_FALSE(parsed[0].has_soft());
  CHECK(parsed[0].unit() == "seconds");
  CHECK(parsed[1].name() == "Max core file size");
  REQUIRE(parsed[1].has_soft());
  CHECK(parsed[1].soft() == 0);
  CHECK_FALSE(parsed[1].has_hard());
  CHECK(parsed[2].unit().empty());
  CHECK(parsed[2].hard() == 0);

  const std::string maps =
      "55d0c0a00000-55d0c0a01000 r--p 00000000 fd:00 123 /usr/bin/my app\n"
      "55d0c0a01000-55d0c0a02000 r-xp 00001000 fd:00 123 /usr/bin/my app\n"
      "55d0c1000000-55d0c1021000 rw-p 00000000 00:00 0  [heap]\n"
      "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n"
      "7f0000001000-7f0000002000 r-xp 00000000 fd:00 9 /lib/libc.so.6 (deleted)\n";
  uint32_t total = 0;
  const auto mappings = parseProcMaps(maps, &total);
  CHECK(total == 5);
  REQUIRE(mappings.size() == 3);
  CHECK(mappings[0].path() == "/usr/bin/my app");
  CHECK(mappings[1].start() == 0x55d0c0a01000);
  CHECK(mappings[1].end() == 0x55d0c0a02000);
  CHECK(mappings[1].perms() == "r-xp");
  CHECK(mappings[1].offset() == 0x1000);
  CHECK(mappings[2].path() == "/lib/libc.so.6 (deleted)");

  CHECK(parseBootTime("cpu  1 2 3\nbtime 1700000000\nprocesses 5\n") == 1700000000);
  CHECK_FALSE(parseBootTime("cpu 1\n").has_value());

  CHECK(parseExeLink("/usr/bin/app (deleted)").deleted);
  CHECK(parseExeLink("/usr/bin/app (deleted)").path == "/usr/bin/app");
  CHECK_FALSE(parseExeLink("/usr/bin/app").deleted);
}

TEST_CASE("coredump proc: the reader describes a live process, and a vanished one clearly") {
  const ProcessCapture self = readCrashedProcess(::getpid(), ::getpid(), {{"*TOKEN*"}, {}});
  CHECK(self.errors.empty());
  CHECK_FALSE(self.vanished);
  CHECK(self.process.pid() == ::getpid());
  CHECK(self.process.ns_tid() == ::getpid());
  char self_exe[4096] = {};
  REQUIRE(::readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1) > 0);
  CHECK(self.process.exe() == self_exe);
  CHECK(self.process.cmdline_size() >= 1);
  CHECK(self.process.start_time_ticks() > 0);
  CHECK(self.process.start_time().seconds() > 1600000000);
  CHECK(self.process.limits_size() > 10);
  CHECK(self.process.mappings_size() > 0);
  CHECK(self.process.cgroups_size() > 0);
  CHECK_FALSE(self.process.in_container());
  CHECK(self.exe_fd.valid());
  CHECK(self.root_fd.valid());

  // Pids are at most 2^22: this one cannot exist.
  const ProcessCapture gone = readCrashedProcess(1 << 23, 1 << 23, {});
  CHECK(gone.vanished);
  REQUIRE(gone.errors.size() == 1);
  CHECK(gone.errors[0].find("no longer exists") != std::string::npos);
}

}  // namespace
}  // namespace vigie::coredump
