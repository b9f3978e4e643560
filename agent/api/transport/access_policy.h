#pragma once

#include <grpcpp/support/status.h>

#include <string>
#include <string_view>
#include <vector>

#include "agent/api/access.h"
#include "vigie/config.h"

namespace vigie {

// The names a verified client certificate carries, as gRPC's auth context lists them: the
// subject's common name and the subject alternative names (DNS, URI, e-mail, IP).
struct CertificateNames {
  std::string common_name;
  std::vector<std::string> alt_names;
};

// The rule for TCP callers: the first entry of `clients` whose identity is one of the
// certificate's names gives the role. OK, or PERMISSION_DENIED naming the client and what it
// lacks: "client 'control-plane' has the read role; StopUnit needs admin".
grpc::Status certificateAccess(const CertificateNames& names,
                               const std::vector<ApiClientSpec>& clients, ApiRole needed,
                               std::string_view method);

// The policy behind makeAccessPolicy(): callers over the unix socket were checked when they
// connected (root or socket_group) and may call everything; TLS callers go through
// certificateAccess(); a call that came any other way is refused.
class TransportAccessPolicy final : public AccessPolicy {
 public:
  explicit TransportAccessPolicy(std::vector<ApiClientSpec> clients)
      : clients_(std::move(clients)) {}

  grpc::Status check(const grpc::ServerContextBase& context, ApiRole needed,
                     std::string_view method) const override;

 private:
  std::vector<ApiClientSpec> clients_;
};

}  // namespace vigie
