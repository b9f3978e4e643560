#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/cli/fleet_targets.h"
#include "vigie/result.h"
#include "vigie/time.h"

namespace vigie::cli {

// PEM files for host:port targets: the agent's TCP listener speaks only TLS and wants a client
// certificate (mTLS). Unix socket targets need none of them.
struct FleetTlsFiles {
  std::string cert;  // our client certificate
  std::string key;   // its private key
  std::string ca;    // the CA that signed the agents' certificates; empty: the system's roots
  // The name the agents' certificates must carry, when it is not the host of the target.
  std::string server_name;
};

// Makes one channel per target: plaintext over a unix socket, TLS with our client certificate
// over TCP. The reconnect backoff is capped at `max_reconnect_backoff` (the poll interval), so a
// node that comes back is seen within a round or two, not after gRPC's default two minutes.
class FleetChannelFactory {
 public:
  // Reads the PEM files when some target needs TLS; an error names the file and the flag.
  static Result<FleetChannelFactory> create(const std::vector<FleetTarget>& targets,
                                            const FleetTlsFiles& files,
                                            Duration max_reconnect_backoff);

  std::shared_ptr<grpc::Channel> channel(const FleetTarget& target) const;

 private:
  FleetChannelFactory(std::shared_ptr<grpc::ChannelCredentials> tls, std::string server_name,
                      Duration backoff)
      : tls_(std::move(tls)),
        server_name_(std::move(server_name)),
        max_reconnect_backoff_(backoff) {}

  std::shared_ptr<grpc::ChannelCredentials> tls_;  // null when no target needs it
  std::string server_name_;
  Duration max_reconnect_backoff_;
};

}  // namespace vigie::cli
