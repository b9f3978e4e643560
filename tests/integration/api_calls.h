#pragma once

// gRPC calls of the black-box tests to a real vigied.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "vigie/v1/agent.grpc.pb.h"

namespace vigie::testing {

// A call's deadline: generous, so that a loaded machine is slow rather than failing.
inline constexpr Duration kCallDeadline = 30s;

std::unique_ptr<grpc::ClientContext> callContext(Duration deadline = kCallDeadline);

// The unit `name` as GetUnit has it now; nullopt when the call fails.
std::optional<v1::Unit> getUnit(v1::Agent::Stub& stub, const std::string& name);

// vigied logging to stderr, and a gRPC client on its socket. `args`: its command line
// (default: daemonArgs).
class ApiAgent {
 public:
  ApiAgent(const TempDir& dir, const std::string& config,
           std::optional<std::vector<std::string>> args = std::nullopt);

  bool reachable();
  std::optional<v1::Unit> unit(const std::string& name) { return getUnit(*stub_, name); }
  // The instance `id` of `name`, as GetUnit has it now.
  std::optional<v1::Instance> instance(const std::string& name, uint64_t id);
  // `vigiectl ARGS` against this agent: its stdout and stderr.
  std::string vigiectl(const std::string& args);

  std::string log() const { return vigied_.stderrText(); }
  DaemonProcess& process() { return vigied_; }
  v1::Agent::Stub& stub() { return *stub_; }

 private:
  std::string socket_;
  DaemonProcess vigied_;
  std::unique_ptr<v1::Agent::Stub> stub_;
};

}  // namespace vigie::testing
