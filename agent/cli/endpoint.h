#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "vigie/result.h"

namespace vigie::cli {

inline constexpr const char* kDefaultSocket = "/run/vigie/vigie.sock";

// Where the agent is: its unix socket (the default), or a remote agent over TCP with mTLS.
struct EndpointOptions {
  std::string socket = kDefaultSocket;
  std::string server;  // host:port; when set, the socket is not used.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;           // empty: the system's roots.
  std::string tls_server_name;  // the name the agent's certificate must carry; empty: the host.
};

struct Endpoint {
  std::shared_ptr<grpc::Channel> channel;
  // What error messages call it: the socket path or host:port.
  std::string name;
  bool is_unix_socket = true;
};

// The channel to the agent; nothing is connected until the first call. Fails (a usage error)
// when the TLS options are incomplete or a TLS file cannot be read; the error names the file.
Result<Endpoint> openEndpoint(const EndpointOptions& options);

}  // namespace vigie::cli
