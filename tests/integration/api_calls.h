#pragma once

// gRPC calls of the black-box tests to a real vigied.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "tests/integration/harness.h"
#include "vigie/v1/agent.grpc.pb.h"

namespace vigie::testing {

// A call's deadline: generous, so that a loaded machine is slow rather than failing.
inline constexpr Duration kCallDeadline = 30s;

std::unique_ptr<grpc::ClientContext> callContext(Duration deadline = kCallDeadline);

// The unit `name` as GetUnit has it now; nullopt when the call fails.
std::optional<v1::Unit> getUnit(v1::Agent::Stub& stub, const std::string& name);

}  // namespace vigie::testing
