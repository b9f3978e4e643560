#include "agent/api/transport/access_policy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>
#include <grpcpp/server_context.h>

#include <algorithm>
#include <memory>

namespace vigie {
namespace {

std::string_view roleName(ApiRole role) {
  return role == ApiRole::kAdmin ? "admin" : "read";
}

// How to call the client in messages: the name a human set up the certificate with.
std::string displayName(const CertificateNames& names) {
  if (!names.common_name.empty()) {
    return names.common_name;
  }
  return names.alt_names.empty() ? std::string("(unnamed)") : names.alt_names.front();
}

std::string describeNames(const CertificateNames& names) {
  std::vector<std::string> parts;
  if (!names.common_name.empty()) {
    parts.push_back("CN " + names.common_name);
  }
  if (!names.alt_names.empty()) {
    parts.push_back(fmt::format("SAN {}", fmt::join(names.alt_names, ", ")));
  }
  return parts.empty() ? std::string("no names") : fmt::format("{}", fmt::join(parts, "; "));
}

bool hasName(const CertificateNames& names, const std::string& identity) {
  return names.common_name == identity || std::find(names.alt_names.begin(), names.alt_names.end(),
                                                    identity) != names.alt_names.end();
}

std::vector<std::string> propertyValues(const grpc::AuthContext& auth, const char* name) {
  std::vector<std::string> values;
  for (const grpc::string_ref& value : auth.FindPropertyValues(name)) {
    values.emplace_back(value.data(), value.size());
  }
  return values;
}

bool overTls(const grpc::AuthContext& auth) {
  const std::vector<std::string> type =
      propertyValues(auth, GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME);
  return std::find(type.begin(), type.end(), GRPC_SSL_TRANSPORT_SECURITY_TYPE) != type.end();
}

}  // namespace

grpc::Status certificateAccess(const CertificateNames& names,
                               const std::vector<ApiClientSpec>& clients, ApiRole needed,
                               std::string_view method) {
  const auto client = std::find_if(clients.begin(), clients.end(), [&](const ApiClientSpec& c) {
    return hasName(names, c.identity);
  });
  if (client == clients.end()) {
    return grpc::Status(
        grpc::StatusCode::PERMISSION_DENIED,
        fmt::format("client '{}' may not call vigied: its certificate ({}) matches no identity "
                    "in api.tcp.clients",
                    displayName(names), describeNames(names)));
  }
  if (needed == ApiRole::kAdmin && client->role != ApiRole::kAdmin) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        fmt::format("client '{}' has the {} role; {} needs {}", client->identity,
                                    roleName(client->role), method, roleName(needed)));
  }
  return grpc::Status::OK;
}

grpc::Status TransportAccessPolicy::check(const grpc::ServerContextBase& context, ApiRole needed,
                                          std::string_view method) const {
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth && overTls(*auth)) {
    if (!auth->IsPeerAuthenticated()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "no verified client certificate: vigied's TCP port needs mutual TLS");
    }
    CertificateNames names;
    const std::vector<std::string> common_names = propertyValues(*auth, GRPC_X509_CN_PROPERTY_NAME);
    if (!common_names.empty()) {
      names.common_name = common_names.front();
    }
    names.alt_names = propertyValues(*auth, GRPC_X509_SAN_PROPERTY_NAME);
    return certificateAccess(names, clients_, needed, method);
  }
  // Channels made from a connection the acceptor let through are named "fd:N" by gRPC; the
  // server has no other plaintext way in.
  if (context.peer().starts_with("fd:")) {
    return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      fmt::format("{} needs the agent's unix socket or mutual TLS", method));
}

}  // namespace vigie
