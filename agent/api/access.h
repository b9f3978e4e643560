#pragma once

#include <grpcpp/support/status.h>

#include <string_view>

#include "vigie/config.h"

namespace grpc {
class ServerContextBase;
}

namespace vigie {

// Who may call what. Every RPC asks before doing anything:
// - calls over the unix socket come from peers that the acceptor already checked (root, or a
//   member of api.socket_group, by SO_PEERCRED): they may call everything;
// - calls over TCP carry a verified client certificate (mTLS): its identity maps to kRead
//   (reads, Heartbeat, streams) or kAdmin (everything) through api.tcp.clients.
// Implemented by the transport (agent/api/transport/); the service only asks.
class AccessPolicy {
 public:
  virtual ~AccessPolicy() = default;
  // OK, or PERMISSION_DENIED / UNAUTHENTICATED with a message that names the identity and what
  // it lacks, e.g. "client \"poller-1\" has the read role; StopUnit needs admin".
  virtual grpc::Status check(const grpc::ServerContextBase& context, ApiRole needed,
                             std::string_view method) const = 0;
};

// Counts API calls for the metrics (vigie_api_requests_total{method,code}). Implemented by
// agent/metrics; called on gRPC threads once per finished call.
class ApiCallRecorder {
 public:
  virtual ~ApiCallRecorder() = default;
  virtual void record(std::string_view method, grpc::StatusCode code) = 0;
  // A WatchEvents consumer cut off for being too slow (vigie_api_stream_cutoffs_total).
  virtual void streamCutOff(std::string_view method) = 0;
};

}  // namespace vigie
