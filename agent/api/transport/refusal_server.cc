#include "agent/api/transport/refusal_server.h"

#include <fmt/format.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/server_posix.h>

#include <map>
#include <mutex>
#include <utility>

namespace vigie {
namespace {

// A refused client has nothing to say: its connection is closed once idle for this long, and at
// the latest after kMaxConnectionAge, so that abandoned connections do not pile up.
constexpr int kMaxConnectionIdleMs = 10'000;
constexpr int kMaxConnectionAgeMs = 30'000;
constexpr int kMaxConnectionAgeGraceMs = 5'000;

class Refusal final : public grpc::ServerGenericBidiReactor {
 public:
  explicit Refusal(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

// Connections are told apart by their gRPC peer name, "fd:N" for a channel made from fd N. An
// fd number is only reused after gRPC closed the connection that had it, and its reason is
// replaced before the new connection is handed over.
class RefusalServer::Service final : public grpc::CallbackGenericService {
 public:
  void remember(int fd, std::string reason) {
    std::lock_guard lock(mutex_);
    reasons_[fmt::format("fd:{}", fd)] = std::move(reason);
  }

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override {
    std::string reason = "access to vigied refused";
    {
      std::lock_guard lock(mutex_);
      if (auto found = reasons_.find(context->peer()); found != reasons_.end()) {
        reason = found->second;
      }
    }
    return new Refusal(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, reason));
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::string, std::less<>> reasons_;  // by peer name; bounded by fd numbers.
};

Result<std::unique_ptr<RefusalServer>> RefusalServer::start() {
  auto service = std::make_unique<Service>();
  grpc::ServerBuilder builder;
  builder.RegisterCallbackGenericService(service.get());
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, kMaxConnectionIdleMs);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, kMaxConnectionAgeMs);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, kMaxConnectionAgeGraceMs);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    return Error{"cannot start the gRPC server that answers refused API clients"};
  }
  return std::unique_ptr<RefusalServer>(new RefusalServer(std::move(service), std::move(server)));
}

RefusalServer::RefusalServer(std::unique_ptr<Service> service, std::unique_ptr<grpc::Server> server)
    : service_(std::move(service)), server_(std::move(server)) {}

RefusalServer::~RefusalServer() {
  shutdown(std::chrono::system_clock::now());
}

void RefusalServer::refuse(UniqueFd connection, std::string reason) {
  service_->remember(connection.get(), std::move(reason));
  grpc::AddInsecureChannelFromFd(server_.get(), connection.release());
}

void RefusalServer::shutdown(std::chrono::system_clock::time_point deadline) {
  if (server_) {
    server_->Shutdown(deadline);
    server_->Wait();
    server_.reset();
  }
}

}  // namespace vigie
