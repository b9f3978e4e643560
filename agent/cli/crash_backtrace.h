#pragma once

#include <cstddef>
#include <string>

#include "vigie/v1/crash.pb.h"

namespace vigie::cli {

// A backtrace as `vigiectl crash bt` prints it: every thread, the crashing one first and marked
// with "*", one line per frame, gdb-like:
//   * thread 4242 (crashed)
//       #0  0x000055d1c0a0113d  level3   at segv_deep.c:5  in segv_deep
//       #1  0x000055d1c0a01157  level2   at segv_deep.c:7  in segv_deep
//     thread 4243
//       #0  0x00007f1e2a0e4f3e  __GI___clock_nanosleep  in libc.so.6
// A frame with no symbol shows "??" and its offset in the module. Why the unwind stopped, and
// what was cut, is said where it applies.
std::string renderBacktrace(const v1::Backtrace& backtrace, bool color);

// The crashing thread's first `max_frames` frames only, in the same layout, for `crash show`.
std::string renderCrashingThread(const v1::Backtrace& backtrace, size_t max_frames, bool color);

}  // namespace vigie::cli
