#include "agent/cli/crash_calls.h"

#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vigie::cli {
namespace {

bool writeAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

bool fetchCrash(CommandContext& context, const std::string& id, v1::GetCrashResponse& response,
                ExitCode& failed) {
  auto rpc = context.client.boundedContext();
  v1::GetCrashRequest request;
  request.set_id(id);
  const grpc::Status status = context.client.stub().GetCrash(rpc.get(), request, &response);
  if (!status.ok()) {
    failed = context.client.report(status, "GetCrash");
    return false;
  }
  return true;
}

ExitCode fetchCore(CommandContext& context, const std::string& id, bool raw, int fd,
                   CoreFetched& fetched) {
  v1::DownloadCoreRequest request;
  request.set_id(id);
  request.set_raw(raw);
  auto rpc = AgentClient::openEndedContext();
  auto reader = context.client.stub().DownloadCore(rpc.get(), request);
  v1::DownloadCoreResponse chunk;
  bool first = true;
  while (reader->Read(&chunk)) {
    if (first) {
      fetched.header = chunk;
      fetched.header.clear_data();
      first = false;
    }
    if (!writeAll(fd, chunk.data())) {
      const int err = errno;
      rpc->TryCancel();
      reader->Finish();
      printError(fmt::format("cannot write the core: {}", std::strerror(err)));
      return kExitFailed;
    }
    fetched.bytes += chunk.data().size();
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) {
    return context.client.report(status, "DownloadCore");
  }
  if (fetched.bytes != fetched.header.total_bytes()) {
    printError(fmt::format("the core of {} came short: {} of {} bytes", fetched.header.id(),
                           fetched.bytes, fetched.header.total_bytes()));
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace vigie::cli
