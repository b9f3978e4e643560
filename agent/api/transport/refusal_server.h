#pragma once

#include <grpcpp/server.h>

#include <chrono>
#include <memory>
#include <string>

#include "agent/os/unique_fd.h"
#include "vigie/result.h"

namespace vigie {

// Where refused unix-socket peers go: a gRPC server with no port of its own and one generic
// service that answers every call with PERMISSION_DENIED and the reason given for that
// connection. The refused client learns why in words, instead of seeing a dropped connection;
// the agent's real services are never reachable from these connections.
class RefusalServer {
 public:
  static Result<std::unique_ptr<RefusalServer>> start();
  ~RefusalServer();
  RefusalServer(const RefusalServer&) = delete;
  RefusalServer& operator=(const RefusalServer&) = delete;

  // Serves `connection`, answering each of its calls with PERMISSION_DENIED `reason`.
  void refuse(UniqueFd connection, std::string reason);
  // Ends open calls after `deadline` and waits for the server. Idempotent.
  void shutdown(std::chrono::system_clock::time_point deadline);

  class Service;

 private:
  RefusalServer(std::unique_ptr<Service> service, std::unique_ptr<grpc::Server> server);

  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace vigie
