#pragma once

#include <grpcpp/support/status.h>

#include <string>
#include <vector>

#include "agent/api/node_snapshot.h"
#include "agent/crash/crash_index.h"
#include "agent/os/unique_fd.h"
#include "vigie/v1/agent.pb.h"

namespace vigie {

// The crash RPCs' logic on a published snapshot, apart from gRPC's reactors (crash_rpcs.cc):
// pure functions, but for reading the record's files.

// ListCrashes returns at most this many (limit 0 means kDefaultCrashLimit).
inline constexpr uint32_t kDefaultCrashLimit = 100;
inline constexpr uint32_t kMaxCrashLimit = 1000;

// The incident named by `id`, or by a prefix of exactly one incident id (like git). NOT_FOUND
// when none matches, INVALID_ARGUMENT for an empty id or a prefix of several ids (the message
// names the first candidates).
grpc::Status findCrash(const CrashState& crashes, const std::string& id, const CrashEntry** found);

// The incidents of `crashes` by fingerprint, each counted over every incident shown.
std::vector<crash::CrashGroup> crashGroups(const CrashState& crashes);

// ListCrashes: the request's filters, newest first, at most `limit`; the groups of the listed
// fingerprints. INVALID_ARGUMENT for an unknown reason, a limit over kMaxCrashLimit, or `since`
// after `until`.
grpc::Status listCrashes(const NodeSnapshot& snapshot, const v1::ListCrashesRequest& request,
                         v1::ListCrashesResponse* response);

// GetCrash: the record, its summary and group, and the helper's report read from the store
// (without its backtrace, which the record has). The process's environment only for `admin`.
grpc::Status getCrash(const NodeSnapshot& snapshot, const v1::GetCrashRequest& request, bool admin,
                      v1::GetCrashResponse* response);

// The stored core of `entry`, opened for DownloadCore. FAILED_PRECONDITION saying why when the
// incident has none; NOT_FOUND when the file went away meanwhile (retention).
grpc::Status openCore(const CrashState& crashes, const CrashEntry& entry, UniqueFd* fd);

}  // namespace vigie
