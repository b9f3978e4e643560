#pragma once

#include <string>
#include <string_view>

#include "vigie/v1/crash.pb.h"

namespace vigie::coredump {

struct Fingerprint {
  std::string hash;   // 16 hex digits
  std::string basis;  // the text hashed
};

// How many frames of the crashing thread count.
inline constexpr int kFingerprintFrames = 5;

// Groups crashes of one bug. With a backtrace: the executable's build-id, the signal and the
// crashing thread's top frames (module build-id or name, and function or offset in the module:
// stable across ASLR). Without: the executable's path, the signal and its si_code.
Fingerprint computeFingerprint(const v1::CaptureReport& report);

// Frames that only carry a signal to the process (raise, abort, terminate, assert, stack
// protector): the same for every such crash, so they neither name the bug's site nor tell
// one bug from another.
bool isSignalMachinery(std::string_view function);

// FNV-1a, 64 bits: stable across builds and platforms (std::hash is not).
uint64_t fnv1a64(std::string_view text);

}  // namespace vigie::coredump
