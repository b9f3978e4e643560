#include "agent/metrics/api_call_metrics.h"

#include <string>

namespace vigie {

std::string_view grpcCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case grpc::StatusCode::DO_NOT_USE:
      break;
  }
  return "UNKNOWN";  // not a code a call can end with: counted with UNKNOWN, not a new series.
}

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
