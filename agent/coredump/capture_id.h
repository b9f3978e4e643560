#pragma once

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace vigie::coredump {

// A capture's id and spool entry name: `20261129T084512Z-<pid>-<8 hex digits>`. Sorting ids
// as strings sorts them by crash time (to the second).
std::string makeCaptureId(std::time_t crash_time, pid_t pid, uint32_t random);

// Whether `name` has that shape (what vigied takes from the spool).
bool isCaptureId(std::string_view name);

// 32 random bits from getrandom (never blocks; falls back to time and pid).
uint32_t randomTag();

}  // namespace vigie::coredump
