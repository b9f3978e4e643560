#include "agent/coredump/fingerprint.h"

#include <cinttypes>
#include <cstdio>

namespace vigie::coredump {
namespace {

const v1::BacktraceThread* crashedThread(const v1::Backtrace& backtrace) {
  for (const auto& thread : backtrace.threads()) {
    if (thread.crashed() && thread.frames_size() > 0) {
      return &thread;
    }
  }
  return nullptr;
}

std::string baseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

bool isSignalMachinery(std::string_view function) {
  static const char* const kNames[] = {"__pthread_kill_implementation",
                                       "__pthread_kill_internal",
                                       "__pthread_kill",
                                       "pthread_kill",
                                       "__GI_raise",
                                       "raise",
                                       "__GI_abort",
                                       "abort",
                                       "std::terminate()",
                                       "__cxa_throw",
                                       "__cxa_rethrow",
                                       "__gnu_cxx::__verbose_terminate_handler()",
                                       "__assert_fail",
                                       "__assert_fail_base",
                                       "__GI___assert_fail",
                                       "__libc_message",
                                       "__fortify_fail",
                                       "__stack_chk_fail",
                                       "malloc_printerr",
                                       "__libc_fatal"};
  for (const char* name : kNames) {
    if (function == name) {
      return true;
    }
  }
  return false;
}

uint64_t fnv1a64(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

Fingerprint computeFingerprint(const v1::CaptureReport& report) {
  Fingerprint fingerprint;
  std::string& basis = fingerprint.basis;
  const std::string signal =
      report.signal_name().empty() ? std::to_string(report.signal()) : report.signal_name();
  if (const v1::BacktraceThread* thread = crashedThread(report.backtrace())) {
    basis = "exe-build-id " + report.backtrace().exe_build_id() + "\nsignal " + signal + "\n";
    const std::string exe_module = report.process().exe();
    int counted = 0;
    bool skipping = true;
    bool skipped_any = false;
    for (int i = 0; i < thread->frames_size(); ++i) {
      const auto& frame = thread->frames(i);
      if (counted == kFingerprintFrames) {
        break;
      }
      // Leading abort/raise/terminate frames, and the unnamed library frames between them,
      // are skipped (never the last frame).
      if (skipping && i + 1 < thread->frames_size()) {
        const bool machinery = isSignalMachinery(frame.function());
        const bool unnamed_library =
            skipped_any && frame.function().empty() && frame.module() != exe_module;
        if (machinery || unnamed_library) {
          skipped_any = true;
          continue;
        }
      }
      skipping = false;
      const std::string module =
          !frame.build_id().empty() ? frame.build_id() : baseName(frame.module());
      char offset[32];
      std::snprintf(offset, sizeof(offset), "+0x%" PRIx64, frame.module_offset());
      basis +=
          "frame " + module + " " + (!frame.function().empty() ? frame.function() : offset) + "\n";
      ++counted;
    }
  } else {
    basis = "exe " + report.process().exe() + "\nsignal " + signal + "\n";
    if (report.has_signal_info()) {
      basis += "code " + std::to_string(report.signal_code()) + "\n";
    }
  }
  char hash[17];
  std::snprintf(hash, sizeof(hash), "%016" PRIx64, fnv1a64(basis));
  fingerprint.hash = hash;
  return fingerprint;
}

}  // namespace vigie::coredump
