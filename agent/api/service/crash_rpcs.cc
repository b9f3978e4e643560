// The crash RPCs of AgentService: ListCrashes, GetCrash (reads, from the published snapshot, on
// the gRPC thread) and DownloadCore (a server stream read chunk by chunk from the store). The
// logic is in crash_queries.cc; this file is the calls' plumbing.
#include <sys/stat.h>

#include "agent/api/service/agent_service.h"
#include "agent/api/service/core_download.h"
#include "agent/api/service/crash_queries.h"

namespace vigie {

grpc::ServerUnaryReactor* AgentService::ListCrashes(grpc::CallbackServerContext* context,
                                                    const v1::ListCrashesRequest* request,
                                                    v1::ListCrashesResponse* response) {
  constexpr std::string_view kMethod = "ListCrashes";
  auto* reactor = context->DefaultReactor();
  if (grpc::Status access = deps_.access.check(*context, ApiRole::kRead, kMethod); !access.ok()) {
    return finishNow(reactor, kMethod, access);
  }
  return finishNow(reactor, kMethod, listCrashes(*deps_.publisher.current(), *request, response));
}

grpc::ServerUnaryReactor* AgentService::GetCrash(grpc::CallbackServerContext* context,
                                                 const v1::GetCrashRequest* request,
                                                 v1::GetCrashResponse* response) {
  constexpr std::string_view kMethod = "GetCrash";
  auto* reactor = context->DefaultReactor();
  if (grpc::Status access = deps_.access.check(*context, ApiRole::kRead, kMethod); !access.ok()) {
    return finishNow(reactor, kMethod, access);
  }
  // The environment may hold what redaction missed: admin callers only.
  const bool admin = deps_.access.check(*context, ApiRole::kAdmin, kMethod).ok();
  return finishNow(reactor, kMethod,
                   getCrash(*deps_.publisher.current(), *request, admin, response));
}

grpc::ServerWriteReactor<v1::DownloadCoreResponse>* AgentService::DownloadCore(
    grpc::CallbackServerContext* context, const v1::DownloadCoreRequest* request) {
  constexpr std::string_view kMethod = "DownloadCore";
  // A core is the process's memory: keys, tokens, customer data. Admin only.
  grpc::Status status = deps_.access.check(*context, ApiRole::kAdmin, kMethod);
  const NodeSnapshotPtr snapshot = deps_.publisher.current();
  const CrashEntry* entry = nullptr;
  UniqueFd fd;
  if (status.ok()) {
    status = findCrash(snapshot->crashes, request->id(), &entry);
  }
  if (status.ok()) {
    status = openCore(snapshot->crashes, *entry, &fd);
  }
  v1::DownloadCoreResponse header;
  if (status.ok()) {
    header.set_id(entry->incident->id());
    if (request->raw()) {
      header.set_compression(v1::CORE_COMPRESSION_NONE);
      header.set_total_bytes(entry->incident->core_raw_bytes());
    } else {
      header.set_compression(v1::CORE_COMPRESSION_ZSTD);
      struct stat st {};
      header.set_total_bytes(::fstat(fd.get(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0);
    }
  }
  auto control = std::make_shared<CoreDownloadControl>();
  uint64_t slot = 0;
  if (status.ok()) {
    status = openStream(control, &slot);
  }
  if (!status.ok()) {
    control->close(status, /*drain=*/false);  // the reactor finishes with it at once.
  }
  auto reader = status.ok() ? std::make_unique<CoreReader>(std::move(fd), request->raw())
                            : std::unique_ptr<CoreReader>();
  const std::optional<uint64_t> held = status.ok() ? std::optional<uint64_t>(slot) : std::nullopt;
  return new CoreDownloadReactor(std::move(reader), std::move(header), control,
                                 [this, held, kMethod](const grpc::Status& done) {
                                   if (held) {
                                     streams_.remove(*held);
                                   }
                                   record(kMethod, done);
                                 });
}

}  // namespace vigie
