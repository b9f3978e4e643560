#include "agent/cli/agent_client.h"

#include <fmt/core.h>

#include <chrono>
#include <cstdio>

#include "agent/cli/rpc_errors.h"

namespace vigie::cli {

AgentClient::AgentClient(Endpoint endpoint, Duration timeout, std::string timeout_text)
    : endpoint_(std::move(endpoint)),
      stub_(v1::Agent::NewStub(endpoint_.channel)),
      timeout_(timeout),
      timeout_text_(std::move(timeout_text)) {}

std::unique_ptr<grpc::ClientContext> AgentClient::boundedContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout_);
  return context;
}

std::unique_ptr<grpc::ClientContext> AgentClient::openEndedContext() {
  return std::make_unique<grpc::ClientContext>();
}

ExitCode AgentClient::report(const grpc::Status& status, std::string_view method) const {
  const Failure failure = describeFailure(status, endpoint_, method, timeout_text_);
  printError(failure.message);
  return failure.exit_code;
}

bool writeOut(std::string_view text) {
  if (text.empty()) {
    return true;
  }
  return std::fwrite(text.data(), 1, text.size(), stdout) == text.size();
}

void writeErr(std::string_view text) {
  // Nothing is left to tell a user whose stderr is gone: failures here are ignored.
  static_cast<void>(std::fflush(stdout));
  static_cast<void>(std::fwrite(text.data(), 1, text.size(), stderr));
}

void printError(std::string_view message) {
  writeErr(fmt::format("vigiectl: {}\n", message));
}

}  // namespace vigie::cli
