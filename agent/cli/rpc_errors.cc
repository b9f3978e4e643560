#include "agent/cli/rpc_errors.h"

#include <fmt/core.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "agent/os/unique_fd.h"

namespace vigie::cli {
namespace {

constexpr const char* kAgentHint = "is vigied running? see `systemctl status vigie`";

std::string groupName(gid_t gid) {
  struct group entry {};
  struct group* found = nullptr;
  char buffer[4096];
  if (::getgrgid_r(gid, &entry, buffer, sizeof(buffer), &found) == 0 && found != nullptr) {
    return found->gr_name;
  }
  return std::to_string(gid);
}

std::string permissionAdvice(const std::string& path, const struct stat& socket_stat) {
  if (socket_stat.st_gid == 0) {
    return fmt::format(
        "permission denied on {}: run as root (the socket's group is 'root'; the agent's "
        "api.socket_group setting opens it to another group)",
        path);
  }
  return fmt::format(
      "permission denied on {}: run as root or as a member of the socket's group '{}'", path,
      groupName(socket_stat.st_gid));
}

bool inGroup(gid_t gid) {
  if (::getegid() == gid) {
    return true;
  }
  std::vector<gid_t> groups(static_cast<size_t>(std::max(::getgroups(0, nullptr), 0)));
  const int count = ::getgroups(static_cast<int>(groups.size()), groups.data());
  groups.resize(static_cast<size_t>(std::max(count, 0)));
  return std::find(groups.begin(), groups.end(), gid) != groups.end();
}

// Connects once to see what the kernel says; 0 when a listener accepted.
int connectErrno(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    return errno;
  }
  struct sockaddr_un address {};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    return ENAMETOOLONG;
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd.get(), reinterpret_cast<const struct sockaddr*>(&address), sizeof(address)) !=
      0) {
    return errno;
  }
  return 0;
}

}  // namespace

ExitCode exitCodeFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return kExitOk;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
      return kExitUnreachable;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return kExitUsage;
    default:
      return kExitFailed;
  }
}

std::string diagnoseUnixSocket(const std::string& path) {
  struct stat socket_stat {};
  if (::stat(path.c_str(), &socket_stat) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return fmt::format("cannot reach {}: no such file ({})", path, kAgentHint);
    }
    if (err == EACCES) {
      return fmt::format(
          "permission denied on {}: a directory on its path is closed to this user (run as "
          "root, or as a member of the agent's socket group)",
          path);
    }
    return fmt::format("cannot reach {}: {} ({})", path, std::strerror(err), kAgentHint);
  }
  if (!S_ISSOCK(socket_stat.st_mode)) {
    return fmt::format("cannot reach {}: not a socket (is --socket or VIGIE_SOCKET right?)", path);
  }
  const int err = connectErrno(path);
  switch (err) {
    case 0:
      return "";
    case EACCES:
    case EPERM:
      return permissionAdvice(path, socket_stat);
    case ECONNREFUSED:
      return fmt::format("cannot reach {}: connection refused, nothing listens there ({})", path,
                         kAgentHint);
    default:
      return fmt::format("cannot reach {}: {} ({})", path, std::strerror(err), kAgentHint);
  }
}

std::string lastErrorCause(const std::string& grpc_message) {
  // gRPC nests its causes as "a; last error: CODE: address: cause".
  std::string cause = grpc_message;
  const size_t last = cause.rfind("last error: ");
  if (last != std::string::npos) {
    cause = cause.substr(last + 12);
  }
  const size_t colon = cause.rfind(": ");
  if (colon != std::string::npos && colon + 2 < cause.size()) {
    cause = cause.substr(colon + 2);
  }
  return cause.empty() ? grpc_message : cause;
}

Failure describeFailure(const grpc::Status& status, const Endpoint& endpoint,
                        std::string_view method, std::string_view timeout_text) {
  const ExitCode code = exitCodeFor(status.error_code());
  const std::string& message = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE: {
      if (endpoint.is_unix_socket) {
        std::string diagnosis = diagnoseUnixSocket(endpoint.name);
        if (!diagnosis.empty()) {
          return {code, std::move(diagnosis)};
        }
        // The socket accepts connections but the call failed: an agent that checks its peers
        // may have closed ours.
        struct stat socket_stat {};
        if (::geteuid() != 0 && ::stat(endpoint.name.c_str(), &socket_stat) == 0 &&
            !inGroup(socket_stat.st_gid)) {
          return {code, permissionAdvice(endpoint.name, socket_stat)};
        }
        return {code, fmt::format("cannot talk to the agent on {}: {} ({})", endpoint.name,
                                  lastErrorCause(message), kAgentHint)};
      }
      return {code, fmt::format("cannot reach {}: {} (is vigied listening there with TCP "
                                "enabled? are --tls-cert, --tls-key and --tls-ca the ones its "
                                "api.tcp config trusts?)",
                                endpoint.name, lastErrorCause(message))};
    }
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return {code, fmt::format("no answer from {} within {} (the agent may be overloaded or "
                                "stuck: see `journalctl -u vigie`; or raise --timeout)",
                                endpoint.name, timeout_text)};
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
      return {code, fmt::format("{} refused access: {}", endpoint.name,
                                message.empty() ? "no reason given" : message)};
    case grpc::StatusCode::UNIMPLEMENTED:
      return {code, fmt::format("the agent on {} does not support {} (is it older than this "
                                "vigiectl?)",
                                endpoint.name, method)};
    case grpc::StatusCode::CANCELLED:
      return {code, fmt::format("{} was cancelled", method)};
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      // The agent's own words say which unit or value and what would work.
      if (!message.empty()) {
        return {code, message};
      }
      break;
    default:
      break;
  }
  return {code, fmt::format("{} failed on the agent: {}", method,
                            message.empty() ? "no reason given" : message)};
}

}  // namespace vigie::cli
