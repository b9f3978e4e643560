#include "tests/integration/api_calls.h"

#include <chrono>

namespace vigie::testing {

std::unique_ptr<grpc::ClientContext> callContext(Duration deadline) {
  using std::chrono::system_clock;
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(system_clock::now() +
                        std::chrono::duration_cast<system_clock::duration>(deadline));
  return context;
}

std::optional<v1::Unit> getUnit(v1::Agent::Stub& stub, const std::string& name) {
  v1::GetUnitRequest request;
  request.set_name(name);
  v1::GetUnitResponse response;
  if (!stub.GetUnit(callContext().get(), request, &response).ok()) {
    return std::nullopt;
  }
  return response.unit();
}

}  // namespace vigie::testing
