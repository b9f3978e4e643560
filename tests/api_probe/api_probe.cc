// A tiny client of vigied's API for the transport tests, run as another user: it drops to the
// given ids before doing anything (gRPC and fork do not mix, so the test spawns this instead of
// forking itself), then either connects to the socket or makes one call, and prints the outcome
// on one line:
//   api_probe [--uid N --gid N [--groups G,G...]] --socket PATH connect
//     -> "connected" or "connect: <strerror> (errno N)"
//   api_probe [--uid N --gid N [--groups G,G...]] --socket PATH call GetNode|StopUnit
//     -> "OK" or "<STATUS_CODE>: <message>"
// Exit status: 0 success, 1 refused or failed, 2 usage error.
#include <grp.h>
#include <grpcpp/grpcpp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "vigie/v1/agent.grpc.pb.h"

namespace {

constexpr auto kCallDeadline = std::chrono::seconds(30);

const char* codeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    default:
      return "OTHER";
  }
}

std::vector<gid_t> parseGroups(const std::string& text) {
  std::vector<gid_t> groups;
  size_t start = 0;
  while (start < text.size()) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma - start);
    groups.push_back(static_cast<gid_t>(std::strtoul(item.c_str(), nullptr, 10)));
    start = comma == std::string::npos ? text.size() : comma + 1;
  }
  return groups;
}

bool dropPrivileges(uid_t uid, gid_t gid, const std::vector<gid_t>& groups) {
  if (::setgroups(groups.size(), groups.data()) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) {
    std::printf("cannot drop privileges: %s\n", std::strerror(errno));
    return false;
  }
  // Changing ids makes a process undumpable, and LeakSanitizer (in the sanitizer lane) cannot
  // inspect an undumpable process.
  ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  return true;
}

int rawConnect(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int err = errno;
    std::printf("connect: %s (errno %d)\n", std::strerror(err), err);
    ::close(fd);
    return 1;
  }
  std::printf("connected\n");
  ::close(fd);
  return 0;
}

int call(const std::string& path, const std::string& method) {
  auto channel = grpc::CreateChannel("unix:" + path, grpc::InsecureChannelCredentials());
  auto stub = vigie::v1::Agent::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  grpc::Status status;
  if (method == "GetNode") {
    vigie::v1::GetNodeResponse response;
    status = stub->GetNode(&context, vigie::v1::GetNodeRequest(), &response);
  } else if (method == "StopUnit") {
    vigie::v1::StopUnitRequest request;
    request.set_name("web");
    vigie::v1::StopUnitResponse response;
    status = stub->StopUnit(&context, request, &response);
  } else {
    std::printf("unknown method %s\n", method.c_str());
    return 2;
  }
  std::printf("%s%s%s\n", codeName(status.error_code()), status.ok() ? "" : ": ",
              status.error_message().c_str());
  return status.ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<uid_t> uid;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  std::string socket;
  std::vector<std::string> rest;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--uid" && has_value) {
      uid = static_cast<uid_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (arg == "--gid" && has_value) {
      gid = static_cast<gid_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (arg == "--groups" && has_value) {
      groups = parseGroups(argv[++i]);
    } else if (arg == "--socket" && has_value) {
      socket = argv[++i];
    } else {
      rest.push_back(arg);
    }
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (socket.empty() || rest.empty()) {
    std::printf(
        "usage: api_probe [--uid N --gid N [--groups G,...]] --socket PATH "
        "connect|call METHOD\n");
    return 2;
  }
  if (uid && !dropPrivileges(*uid, gid, groups)) {
    return 1;
  }
  if (rest[0] == "connect") {
    return rawConnect(socket);
  }
  if (rest[0] == "call" && rest.size() == 2) {
    return call(socket, rest[1]);
  }
  std::printf("usage error\n");
  return 2;
}
