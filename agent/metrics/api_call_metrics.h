#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include <string_view>

#include "agent/api/access.h"
#include "agent/api/grpc_code_name.h"

namespace vigie {

// vigie_api_requests_total{method,code} and vigie_api_stream_cutoffs_total{method}. Called on
// gRPC threads; prometheus counters and families are thread-safe. `method` is the RPC's name
// (a fixed set, chosen by the service, never by the caller), so the series stay bounded.
class ApiCallMetrics final : public ApiCallRecorder {
 public:
  explicit ApiCallMetrics(prometheus::Registry& registry);

  void record(std::string_view method, grpc::StatusCode code) override;
  void streamCutOff(std::string_view method) override;

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& cutoffs_;
};

}  // namespace vigie
