#pragma once

#include <grpcpp/support/server_callback.h>

#include <functional>
#include <memory>
#include <mutex>

#include "agent/api/service/core_reader.h"
#include "agent/api/service/stream_outbox.h"
#include "vigie/v1/agent.pb.h"

namespace vigie {

// DownloadCoreResponse.data is at most this long.
inline constexpr size_t kCoreChunkBytes = size_t{256} * 1024;

// The service's hold on one DownloadCore stream: what AgentService::shutdown() ends (after the
// chunk in flight), and what the stream registry counts.
class CoreDownloadControl final : public StreamControl {
 public:
  void close(const grpc::Status& status, bool drain) override;
  bool closed() const override;
  grpc::Status closeStatus() const;

 private:
  mutable std::mutex mutex_;
  bool closed_ = false;
  grpc::Status status_;
};

// The DownloadCore stream: one chunk in flight at a time, the next read from the CoreReader
// when the previous write completes (on a gRPC thread: a chunk is a short local read, never the
// loop's business). So a client that reads slowly holds one chunk of memory, not the core. The
// first message carries `header` (id, compression, total bytes). Deletes itself in OnDone.
class CoreDownloadReactor final : public grpc::ServerWriteReactor<v1::DownloadCoreResponse> {
 public:
  using DoneFn = std::function<void(const grpc::Status&)>;

  // Starts writing at once. `done` runs once, in OnDone, with the status the stream ended with.
  CoreDownloadReactor(std::unique_ptr<CoreReader> reader, v1::DownloadCoreResponse header,
                      std::shared_ptr<CoreDownloadControl> control, DoneFn done);

  void OnWriteDone(bool ok) override;
  void OnCancel() override {}  // the write in flight fails; OnWriteDone finishes.
  void OnDone() override;

 private:
  void writeNext();
  void finish(const grpc::Status& status);

  std::unique_ptr<CoreReader> reader_;
  std::shared_ptr<CoreDownloadControl> control_;
  DoneFn done_;
  v1::DownloadCoreResponse message_;
  bool first_ = true;
  grpc::Status status_;
};

}  // namespace vigie
