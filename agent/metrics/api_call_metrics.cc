#include "agent/metrics/api_call_metrics.h"

#include <string>

namespace vigie {

ApiCallMetrics::ApiCallMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("vigie_api_requests_total")
                    .Help("Finished gRPC API calls, by method and status code.")
                    .Register(registry)),
      cutoffs_(prometheus::BuildCounter()
                   .Name("vigie_api_stream_cutoffs_total")
                   .Help("Server streams cut off because their consumer was too slow.")
                   .Register(registry)) {}

void ApiCallMetrics::record(std::string_view method, grpc::StatusCode code) {
  requests_.Add({{"method", std::string(method)}, {"code", std::string(grpcCodeName(code))}})
      .Increment();
}

void ApiCallMetrics::streamCutOff(std::string_view method) {
  cutoffs_.Add({{"method", std::string(method)}}).Increment();
}

}  // namespace vigie
