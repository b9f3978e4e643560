#include "agent/cli/endpoint.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <unistd.h>

#include "agent/os/unique_fd.h"

namespace vigie::cli {
namespace {

// Output chunks are at most 64 KiB, but a node with many units answers ListUnits with more
// than gRPC's default 4 MiB.
constexpr int kMaxReceiveBytes = 64 * 1024 * 1024;
constexpr size_t kMaxPemBytes = size_t{1024} * 1024;

Result<std::string> readPem(const std::string& flag, const std::string& path) {
  const std::string what = fmt::format("cannot read {} file {}", flag, path);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return Error::fromErrno(what);
  }
  std::string text;
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error::fromErrno(what);
    }
    if (n == 0) {
      break;
    }
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > kMaxPemBytes) {
      return Error{what + ": larger than 1 MiB, not a PEM file"};
    }
  }
  if (text.empty()) {
    return Error{what + ": it is empty"};
  }
  return text;
}

grpc::ChannelArguments channelArguments() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  return args;
}

}  // namespace

Result<Endpoint> openEndpoint(const EndpointOptions& options) {
  if (options.server.empty()) {
    if (!options.tls_cert.empty() || !options.tls_key.empty() || !options.tls_ca.empty()) {
      return Error{
          "--tls-cert, --tls-key and --tls-ca go with --server (the unix socket needs "
          "no TLS)"};
    }
    if (options.socket.empty()) {
      return Error{"--socket: an empty path"};
    }
    grpc::ChannelArguments args = channelArguments();
    // The authority of a unix socket is its path, which gRPC would percent-encode into the
    // :authority header; the agent does not care, so keep it short.
    args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, "localhost");
    return Endpoint{grpc::CreateCustomChannel("unix:" + options.socket,
                                              grpc::InsecureChannelCredentials(), args),
                    options.socket, true};
  }
  if (options.tls_cert.empty() || options.tls_key.empty()) {
    return Error{
        "--server needs --tls-cert and --tls-key: the agent accepts only clients with a "
        "certificate (mTLS)"};
  }
  grpc::SslCredentialsOptions ssl;
  auto cert = readPem("--tls-cert", options.tls_cert);
  if (!cert) {
    return cert.error();
  }
  auto key = readPem("--tls-key", options.tls_key);
  if (!key) {
    return key.error();
  }
  ssl.pem_cert_chain = std::move(*cert);
  ssl.pem_private_key = std::move(*key);
  if (!options.tls_ca.empty()) {
    auto ca = readPem("--tls-ca", options.tls_ca);
    if (!ca) {
      return ca.error();
    }
    ssl.pem_root_certs = std::move(*ca);
  }
  grpc::ChannelArguments args = channelArguments();
  if (!options.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name);
  }
  return Endpoint{grpc::CreateCustomChannel(options.server, grpc::SslCredentials(ssl), args),
                  options.server, false};
}

}  // namespace vigie::cli
