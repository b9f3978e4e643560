#pragma once

#include <grpcpp/impl/service_type.h>
#include <grpcpp/server.h>

#include <memory>
#include <vector>

#include "agent/api/access.h"
#include "vigie/config.h"
#include "vigie/result.h"

namespace vigie {

// Who may call what, from the api section of the config (see access.h).
std::unique_ptr<AccessPolicy> makeAccessPolicy(const ApiSpec& spec);

// The agent's gRPC listeners:
// - the unix socket at spec.socket (mode 0660, group spec.socket_group). Connections are
//   accepted here, their SO_PEERCRED checked (root or a member of socket_group), and only then
//   handed to gRPC; refused peers get PERMISSION_DENIED with a message that says why;
// - with spec.tcp, a TCP listener that speaks only TLS and requires a client certificate signed
//   by spec.tcp.client_ca.
// Message sizes are limited by spec.limits.
//
// Services may be synchronous or callback-based. shutdown() cancels calls still open after a
// short grace period: a synchronous streaming handler must watch context->IsCancelled() (or be
// woken otherwise) and return, or shutdown() waits for it.
class ApiServer {
 public:
  static Result<std::unique_ptr<ApiServer>> start(const ApiSpec& spec,
                                                  const std::vector<grpc::Service*>& services);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Stops accepting, ends open calls and streams, and waits for the server's threads. The
  // socket file is removed. Idempotent.
  void shutdown();

  // The TCP port listened on (the kernel's choice when api.tcp.listen asked for port 0); 0
  // without a TCP listener.
  int tcpPort() const;

  struct Impl;

 private:
  explicit ApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigie
