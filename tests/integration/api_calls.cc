#include "tests/integration/api_calls.h"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>

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

namespace {

DaemonProcess::Options agentOptions(const TempDir& dir, const std::string& config,
                                    std::optional<std::vector<std::string>> args) {
  std::vector<std::string> line = args ? std::move(*args) : daemonArgs(dir, config);
  line.insert(line.end(), {"--log-target", "stderr"});
  return {.args = line};
}

}  // namespace

ApiAgent::ApiAgent(const TempDir& dir, const std::string& config,
                   std::optional<std::vector<std::string>> args)
    : socket_(dir.file("vigie.sock")), vigied_(dir, agentOptions(dir, config, std::move(args))) {
  // Connect once the socket is there: a first connect that fails puts the channel into gRPC's
  // reconnect backoff, which costs seconds.
  REQUIRE_MESSAGE(vigied_.waitForLog("vigied started"), vigied_.stderrText());
  stub_ = v1::Agent::NewStub(
      grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials()));
  REQUIRE_MESSAGE(pollUntil([&] { return reachable(); }), vigied_.stderrText());
}

bool ApiAgent::reachable() {
  v1::GetNodeResponse node;
  return stub_->GetNode(callContext().get(), {}, &node).ok();
}

std::optional<v1::Instance> ApiAgent::instance(const std::string& name, uint64_t id) {
  const auto found = unit(name);
  if (!found) {
    return std::nullopt;
  }
  for (const v1::Instance& instance : found->instances()) {
    if (instance.id() == id) {
      return instance;
    }
  }
  return std::nullopt;
}

std::string ApiAgent::vigiectl(const std::string& args) {
  const std::string command =
      std::string(VIGIE_BIN_DIR) + "/vigiectl --socket " + socket_ + " " + args + " 2>&1";
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    out.append(buffer, n);
  }
  ::pclose(pipe);
  return out;
}

}  // namespace vigie::testing
