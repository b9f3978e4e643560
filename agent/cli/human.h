#pragma once

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <string>

#include "vigie/time.h"

namespace vigie::cli {

// Words and numbers for a person at a terminal. Pure functions: "now" is always passed in.

// Lengths of time at a useful precision: "350ms", "4.2s", "42s", "3m12s", "2h5m", "3d4h".
std::string humanDuration(Duration d);
// How long ago, to one unit: "just now", "42s ago", "3m ago", "2h ago", "3d ago".
std::string humanAgo(WallTime then, WallTime now);
// How long until: "in 4.2s", "in 3m12s"; "now" once it is due.
std::string humanUntil(WallTime then, WallTime now);
// Binary sizes: "512 B", "1.5 KiB", "3.2 GiB".
std::string humanBytes(uint64_t bytes);
// Local time, to the second: "2024-05-01 12:03:04".
std::string localTime(WallTime time);
// With milliseconds, for events: "2024-05-01 12:03:04.120".
std::string localTimeMillis(WallTime time);

WallTime fromProto(const google::protobuf::Timestamp& time);
Duration fromProto(const google::protobuf::Duration& duration);

}  // namespace vigie::cli
