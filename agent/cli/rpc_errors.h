#pragma once

#include <grpcpp/support/status.h>

#include <string>

#include "agent/cli/endpoint.h"
#include "agent/cli/exit_codes.h"

namespace vigie::cli {

// An RPC that failed, as vigiectl reports it: an exit code and one plain sentence that names the
// cause and the fix. Never the raw gRPC status.
struct Failure {
  ExitCode exit_code = kExitFailed;
  std::string message;  // without the "vigiectl: " prefix and the newline
};

// The exit code for a gRPC status code: unreachable/refused (UNAVAILABLE, DEADLINE_EXCEEDED,
// PERMISSION_DENIED, UNAUTHENTICATED) 3, INVALID_ARGUMENT 2, OK 0, everything else 1.
ExitCode exitCodeFor(grpc::StatusCode code);

// What went wrong with the socket at `path`, found by looking at it and connecting to it:
// missing, not a socket, no listener, or closed to this user (naming the socket's group).
// Called after a call failed with UNAVAILABLE; "" when the socket looks fine.
std::string diagnoseUnixSocket(const std::string& path);

// `method` is the RPC's name ("ListUnits"), for UNIMPLEMENTED. `timeout_text` is the deadline
// as the user gave it, for DEADLINE_EXCEEDED.
Failure describeFailure(const grpc::Status& status, const Endpoint& endpoint,
                        std::string_view method, std::string_view timeout_text);

// The last, most specific part of a gRPC error text: "failed to connect to all addresses; last
// error: UNKNOWN: ipv4:127.0.0.1:1: Connection refused" -> "Connection refused".
std::string lastErrorCause(const std::string& grpc_message);

}  // namespace vigie::cli
