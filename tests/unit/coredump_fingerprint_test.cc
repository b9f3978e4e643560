// vigie-coredump: fingerprints group crashes of one bug, capture ids sort by time.
#include <doctest/doctest.h>

#include <algorithm>

#include "agent/coredump/capture_id.h"
#include "agent/coredump/fingerprint.h"

namespace vigie::coredump {
namespace {

v1::CaptureReport reportWithFrames(const std::vector<std::string>& functions,
                                   const std::string& exe_build_id = "ab12") {
  v1::CaptureReport report;
  report.set_signal(11);
  report.set_signal_name("SIGSEGV");
  report.mutable_process()->set_exe("/usr/bin/app");
  report.mutable_backtrace()->set_exe_build_id(exe_build_id);
  auto* thread = report.mutable_backtrace()->add_threads();
  thread->set_crashed(true);
  uint64_t pc = 0x1000;
  for (const auto& function : functions) {
    auto* frame = thread->add_frames();
    frame->set_function(function);
    frame->set_module("/usr/bin/app");
    frame->set_build_id(exe_build_id);
    frame->set_pc(pc += 0x10);
    frame->set_module_offset(pc - 0x1000);
  }
  return report;
}

TEST_CASE("coredump fingerprint: build-id, signal and top frames") {
  const auto a = computeFingerprint(reportWithFrames({"level3", "level2", "level1", "main"}));
  CHECK(a.hash.size() == 16);
  CHECK(a.basis.find("exe-build-id ab12") != std::string::npos);
  CHECK(a.basis.find("signal SIGSEGV") != std::string::npos);
  CHECK(a.basis.find("frame ab12 level3\n") != std::string::npos);

  // Same bug, other addresses (ASLR, another pid): same fingerprint.
  auto moved = reportWithFrames({"level3", "level2", "level1", "main"});
  moved.mutable_process()->set_pid(999);
  for (auto& frame : *moved.mutable_backtrace()->mutable_threads(0)->mutable_frames()) {
    frame.set_pc(frame.pc() + 0x7f0000000000);
  }
  CHECK(computeFingerprint(moved).hash == a.hash);

  // Another build, another signal, another path: another fingerprint.
  CHECK(computeFingerprint(reportWithFrames({"level3", "level2", "level1", "main"}, "cd34")).hash !=
        a.hash);
  auto abrt = reportWithFrames({"level3", "level2", "level1", "main"});
  abrt.set_signal_name("SIGABRT");
  CHECK(computeFingerprint(abrt).hash != a.hash);
  CHECK(computeFingerprint(reportWithFrames({"other", "level2", "level1", "main"})).hash != a.hash);
  // Frames past the fifth do not count.
  CHECK(computeFingerprint(reportWithFrames({"f1", "f2", "f3", "f4", "f5", "x"})).hash ==
        computeFingerprint(reportWithFrames({"f1", "f2", "f3", "f4", "f5", "y"})).hash);
}

TEST_CASE("coredump fingerprint: abort and raise frames are skipped") {
  const auto fingerprint = computeFingerprint(reportWithFrames(
      {"__pthread_kill_implementation", "__GI_raise", "__GI_abort", "std::terminate()", "",
       "__cxa_throw", "crashers::Parser::parse(int)", "main"}));
  CHECK(fingerprint.basis.find("raise") == std::string::npos);
  CHECK(fingerprint.basis.find("frame ab12 crashers::Parser::parse(int)\n") != std::string::npos);
}

TEST_CASE("coredump fingerprint: without a backtrace, exe, signal and si_code") {
  v1::CaptureReport report;
  report.set_signal_name("SIGSEGV");
  report.mutable_process()->set_exe("/usr/bin/app");
  const auto plain = computeFingerprint(report);
  CHECK(plain.basis == "exe /usr/bin/app\nsignal SIGSEGV\n");
  report.set_has_signal_info(true);
  report.set_signal_code(1);
  const auto with_code = computeFingerprint(report);
  CHECK(with_code.basis == "exe /usr/bin/app\nsignal SIGSEGV\ncode 1\n");
  CHECK(with_code.hash != plain.hash);
  // A crashed thread without frames is no backtrace.
  report.mutable_backtrace()->add_threads()->set_crashed(true);
  CHECK(computeFingerprint(report).hash == with_code.hash);
}

TEST_CASE("coredump fingerprint: FNV-1a 64 reference values") {
  CHECK(fnv1a64("") == 0xcbf29ce484222325ULL);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
}

TEST_CASE("coredump id: time-sortable, pid and random tag") {
  const std::string id = makeCaptureId(1795943377, 4242, 0xdeadbeef);
  CHECK(id == "20261129T090937Z-4242-deadbeef");
  CHECK(isCaptureId(id));
  CHECK(isCaptureId(makeCaptureId(0, 1, 0)));
  CHECK_FALSE(isCaptureId(id + ".tmp"));
  CHECK_FALSE(isCaptureId(".ratelimit"));
  CHECK_FALSE(isCaptureId("20261129T090937Z-x-deadbeef"));
  CHECK_FALSE(isCaptureId("20261129T090937Z-42-DEADBEEF"));
  std::vector<std::string> ids = {makeCaptureId(1795943378, 1, 0), makeCaptureId(1795943377, 99, 5),
                                  makeCaptureId(1700000000, 7, 9)};
  std::sort(ids.begin(), ids.end());
  CHECK(ids[0].rfind("2023", 0) == 0);
  CHECK(ids[2] == makeCaptureId(1795943378, 1, 0));
  CHECK(randomTag() != randomTag());  // 2^-32 chance of a false failure
}

}  // namespace
}  // namespace vigie::coredump
