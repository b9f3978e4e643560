// The API's listeners. The unix socket is accepted here, not by gRPC, because gRPC 1.51 cannot
// tell who is at the other end of a unix connection: each connection's SO_PEERCRED is checked
// first, and only then is the connection handed to a gRPC server, the agent's one or the one
// that tells refused peers why.
#include "agent/api/transport/api_server.h"

#include <fmt/format.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/server_posix.h>
#include <netdb.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <chrono>
#include <optional>
#include <utility>

#include "agent/api/transport/access_policy.h"
#include "agent/api/transport/peer_credentials.h"
#include "agent/api/transport/refusal_server.h"
#include "agent/api/transport/socket_acceptor.h"
#include "agent/api/transport/socket_access.h"
#include "agent/api/transport/tls_files.h"
#include "agent/api/transport/unix_listener.h"
#include "agent/os/credentials.h"

namespace vigie {
namespace {

// Calls still open this long after shutdown() starts are cancelled.
constexpr std::chrono::milliseconds kShutdownGrace{1000};
// gRPC threads for synchronous handlers: one per allowed stream, plus room for unary calls.
constexpr int kUnaryCallThreads = 16;
// HTTP/2 streams (calls) open at once on one connection.
constexpr int kMaxCallsPerConnection = 100;
// A TCP client must finish the TLS handshake within this, or is dropped.
constexpr int kHandshakeTimeoutMs = 10'000;
// Pings on idle TCP connections, so that a vanished control plane's streams end.
constexpr int kKeepaliveTimeMs = 60'000;
constexpr int kKeepaliveTimeoutMs = 20'000;

// Why gRPC could not listen on `address`: it does not say, so try the bind ourselves.
std::string tcpListenFailure(const ListenAddress& address) {
  std::string where = fmt::format("cannot listen on api.tcp.listen {}", address.format());
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const int resolved =
      ::getaddrinfo(address.host.c_str(), std::to_string(address.port).c_str(), &hints, &found);
  if (resolved != 0) {
    return fmt::format("{}: {}", where, ::gai_strerror(resolved));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    UniqueFd probe(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    const int one = 1;
    if (probe && ::setsockopt(probe.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
        ::bind(probe.get(), a->ai_addr, a->ai_addrlen) != 0) {
      return Error::fromErrno(where).message;
    }
  }
  return where;
}

std::shared_ptr<grpc::ServerCredentials> tlsCredentials(const TlsFiles& files) {
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = files.client_ca;
  options.pem_key_cert_pairs.push_back({files.key, files.cert});
  return grpc::SslServerCredentials(options);
}

void limitResources(const ApiLimitsSpec& limits, grpc::ServerBuilder& builder) {
  builder.SetMaxReceiveMessageSize(static_cast<int>(limits.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(limits.max_message_bytes));
  grpc::ResourceQuota quota("vigie-api");
  quota.SetMaxThreads(static_cast<int>(limits.max_streams) + kUnaryCallThreads);
  builder.SetResourceQuota(quota);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, kMaxCallsPerConnection);
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, kHandshakeTimeoutMs);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, kKeepaliveTimeMs);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kKeepaliveTimeoutMs);
  // Without this, a second agent would silently share the first one's TCP port.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
}

}  // namespace

std::unique_ptr<AccessPolicy> makeAccessPolicy(const ApiSpec& spec) {
  return std::make_unique<TransportAccessPolicy>(spec.tcp ? spec.tcp->clients
                                                          : std::vector<ApiClientSpec>{});
}

struct ApiServer::Impl {
  SocketAccessRule rule;
  UnixSocketFile socket_file;
  std::unique_ptr<grpc::Server> server;  // the agent's services.
  std::unique_ptr<RefusalServer> refusal;
  std::unique_ptr<SocketAcceptor> acceptor;
  int tcp_port = 0;

  ~Impl() { shutdown(); }

  // On the acceptor's thread: where a new unix-socket connection goes.
  void admit(UniqueFd connection) {
    Result<PeerCredentials> peer = readPeerCredentials(connection.get());
    if (!peer) {
      spdlog::warn("api: dropped a connection to {}: {}", rule.socket_path, peer.error().message);
      return;
    }
    if (socketAllows(*peer, rule)) {
      grpc::AddInsecureChannelFromFd(server.get(), connection.release());
      return;
    }
    std::string reason = socketRefusal(*peer, rule, userNameOf(peer->uid));
    spdlog::info("api: refused pid {}: {}", peer->pid, reason);
    refusal->refuse(std::move(connection), std::move(reason));
  }

  void shutdown() {
    if (acceptor) {
      acceptor->stop();
      acceptor.reset();
    }
    socket_file.remove();
    const auto deadline = std::chrono::system_clock::now() + kShutdownGrace;
    if (server) {
      server->Shutdown(deadline);
      server->Wait();
      server.reset();
    }
    if (refusal) {
      refusal->shutdown(deadline);
      refusal.reset();
    }
  }
};

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ApiServer::~ApiServer() {
  shutdown();
}

Result<std::unique_ptr<ApiServer>> ApiServer::start(const ApiSpec& spec,
                                                    const std::vector<grpc::Service*>& services) {
  auto impl = std::make_unique<Impl>();
  impl->rule = SocketAccessRule{spec.socket, spec.socket_group, 0};
  std::optional<gid_t> socket_group;
  if (!spec.socket_group.empty()) {
    Result<gid_t> gid = resolveGroup(spec.socket_group);
    if (!gid) {
      return Error{fmt::format("api.socket_group: {}", gid.error().message)};
    }
    socket_group = impl->rule.group = *gid;
  }

  grpc::ServerBuilder builder;
  limitResources(spec.limits, builder);
  std::optional<ListenAddress> tcp_address;
  if (spec.tcp) {
    Result<ListenAddress> address = parseListenAddress(spec.tcp->listen);
    if (!address) {
      return Error{fmt::format("api.tcp.listen: {}", address.error().message)};
    }
    tcp_address = *address;
    Result<TlsFiles> files = loadTlsFiles(*spec.tcp);
    if (!files) {
      return files.error();
    }
    builder.AddListeningPort(tcp_address->format(), tlsCredentials(*files), &impl->tcp_port);
  }
  for (grpc::Service* service : services) {
    builder.RegisterService(service);
  }

  // The socket first: when another agent owns it, that is the error to report, not the TCP
  // port it also holds.
  Result<UnixListener> listener = listenOnUnixSocket(spec.socket, socket_group);
  if (!listener) {
    return listener.error();
  }
  impl->socket_file = std::move(listener->file);
  impl->server = builder.BuildAndStart();
  if (!impl->server) {
    return Error{tcp_address ? tcpListenFailure(*tcp_address)
                             : std::string("cannot start the API's gRPC server")};
  }
  Result<std::unique_ptr<RefusalServer>> refusal = RefusalServer::start();
  if (!refusal) {
    return refusal.error();
  }
  impl->refusal = std::move(*refusal);
  Impl* raw = impl.get();
  Result<std::unique_ptr<SocketAcceptor>> acceptor = SocketAcceptor::start(
      std::move(listener->fd), [raw](UniqueFd connection) { raw->admit(std::move(connection)); });
  if (!acceptor) {
    return acceptor.error();
  }
  impl->acceptor = std::move(*acceptor);
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

void ApiServer::shutdown() {
  if (impl_) {
    impl_->shutdown();
  }
}

int ApiServer::tcpPort() const {
  return impl_ ? impl_->tcp_port : 0;
}

}  // namespace vigie
