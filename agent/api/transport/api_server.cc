// PLACEHOLDER until the transport lands: a plain unix socket listener, no peer check, no TCP.
#include "agent/api/transport/api_server.h"

#include <grpcpp/server_builder.h>
#include <unistd.h>

namespace vigie {

namespace {
class AllowAll final : public AccessPolicy {
 public:
  grpc::Status check(const grpc::ServerContextBase&, ApiRole, std::string_view) const override {
    return grpc::Status::OK;
  }
};
}  // namespace

std::unique_ptr<AccessPolicy> makeAccessPolicy(const ApiSpec&) {
  return std::make_unique<AllowAll>();
}

struct ApiServer::Impl {
  std::string socket;
  std::unique_ptr<grpc::Server> server;
};

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiServer::~ApiServer() {
  shutdown();
}

Result<std::unique_ptr<ApiServer>> ApiServer::start(const ApiSpec& spec,
                                                    const std::vector<grpc::Service*>& services) {
  ::unlink(spec.socket.c_str());
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + spec.socket, grpc::InsecureServerCredentials());
  for (grpc::Service* service : services) {
    builder.RegisterService(service);
  }
  auto impl = std::make_unique<Impl>();
  impl->socket = spec.socket;
  impl->server = builder.BuildAndStart();
  if (!impl->server) {
    return Error{"cannot listen on unix:" + spec.socket};
  }
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

void ApiServer::shutdown() {
  if (impl_ && impl_->server) {
    impl_->server->Shutdown();
    impl_->server->Wait();
    impl_->server.reset();
    ::unlink(impl_->socket.c_str());
  }
}

}  // namespace vigie
