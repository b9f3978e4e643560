#pragma once

#include <grpcpp/client_context.h>

#include <memory>
#include <string>
#include <string_view>

#include "agent/cli/endpoint.h"
#include "agent/cli/exit_codes.h"
#include "agent/cli/terminal.h"
#include "vigie/time.h"
#include "vigie/v1/agent.grpc.pb.h"

namespace vigie::cli {

enum class OutputFormat { kTable, kJson };

// The agent as the commands see it: the stub, the deadline of calls that end by themselves, and
// how a failed call is reported.
class AgentClient {
 public:
  AgentClient(Endpoint endpoint, Duration timeout, std::string timeout_text);

  v1::Agent::Stub& stub() { return *stub_; }
  const Endpoint& endpoint() const { return endpoint_; }

  // For unary calls and streams that end on their own: the deadline is --timeout from now.
  std::unique_ptr<grpc::ClientContext> boundedContext() const;
  // For follow streams, which last until the user stops them.
  static std::unique_ptr<grpc::ClientContext> openEndedContext();

  // Prints "vigiectl: <cause and fix>" on stderr and returns the exit code for `status`.
  ExitCode report(const grpc::Status& status, std::string_view method) const;

 private:
  Endpoint endpoint_;
  std::unique_ptr<v1::Agent::Stub> stub_;
  Duration timeout_;
  std::string timeout_text_;
};

// What every command gets.
struct CommandContext {
  AgentClient& client;
  OutputFormat format = OutputFormat::kTable;
  Terminal terminal;
};

// Writes to stdout; false once stdout is gone (a closed pipe), when the command should stop.
bool writeOut(std::string_view text);
// `text` on stderr as it is, after whatever stdout holds, so that the two interleave in order on
// a terminal.
void writeErr(std::string_view text);
// "vigiectl: <message>" on stderr.
void printError(std::string_view message);

}  // namespace vigie::cli
