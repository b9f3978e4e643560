#include "agent/cli/fleet_channels.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vigie::cli {
namespace {

Result<std::string> readPem(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{std::string("cannot read ") + flag + " " + path + ": " + std::strerror(errno)};
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Result<FleetChannelFactory> FleetChannelFactory::create(const std::vector<FleetTarget>& targets,
                                                        const FleetTlsFiles& files,
                                                        Duration max_reconnect_backoff) {
  const bool need_tls = std::any_of(targets.begin(), targets.end(),
                                    [](const FleetTarget& target) { return !target.unix_socket; });
  if (!need_tls) {
    return FleetChannelFactory(nullptr, "", max_reconnect_backoff);
  }
  if (files.cert.empty() || files.key.empty()) {
    return Error{
        "host:port targets are reached over TLS with a client certificate: give --tls-cert and "
        "--tls-key (and --tls-ca for a private CA), or list only unix:/path targets"};
  }
  grpc::SslCredentialsOptions options;
  auto cert = readPem(files.cert, "--tls-cert");
  if (!cert) {
    return cert.error();
  }
  auto key = readPem(files.key, "--tls-key");
  if (!key) {
    return key.error();
  }
  if (!files.ca.empty()) {
    auto ca = readPem(files.ca, "--tls-ca");
    if (!ca) {
      return ca.error();
    }
    options.pem_root_certs = std::move(*ca);
  }
  options.pem_cert_chain = std::move(*cert);
  options.pem_private_key = std::move(*key);
  return FleetChannelFactory(grpc::SslCredentials(options), files.server_name,
                             max_reconnect_backoff);
}

std::shared_ptr<grpc::Channel> FleetChannelFactory::channel(const FleetTarget& target) const {
  grpc::ChannelArguments args;
  const auto backoff_ms = std::clamp<int64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(max_reconnect_backoff_).count(), 100,
      INT_MAX);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(backoff_ms));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              static_cast<int>(std::min<int64_t>(backoff_ms, 1000)));
  // A poll has its own deadline and the next round is the retry.
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  // BDP probes are HTTP/2 pings sent along with received data, to size flow-control windows for
  // bulk transfers; answers of a few hundred bytes gain nothing from them.
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  if (!target.unix_socket && !server_name_.empty()) {
    args.SetSslTargetNameOverride(server_name_);
  }
  const auto credentials =
      target.unix_socket || tls_ == nullptr ? grpc::InsecureChannelCredentials() : tls_;
  return grpc::CreateCustomChannel(target.address, credentials, args);
}

}  // namespace vigie::cli
