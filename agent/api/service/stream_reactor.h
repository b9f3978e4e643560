#pragma once

#include <grpcpp/support/server_callback.h>

#include <functional>
#include <memory>
#include <utility>

#include "agent/api/service/stream_outbox.h"

namespace vigie {

// A server stream driven by a StreamOutbox: the outbox decides what to write and when to finish;
// this reactor passes gRPC's completions back to it. It deletes itself in OnDone, after
// detaching from the outbox, which the hubs may still hold: they then find it closed.
template <class Response>
class OutboxReactor final : public grpc::ServerWriteReactor<Response>,
                            private StreamWriter<Response> {
 public:
  // `on_done` runs once, in OnDone, with the status the stream ended with.
  using DoneFn = std::function<void(const grpc::Status&)>;

  OutboxReactor(std::shared_ptr<StreamOutbox<Response>> outbox, DoneFn on_done)
      : outbox_(std::move(outbox)), on_done_(std::move(on_done)) {
    outbox_->attach(this);
  }

  const std::shared_ptr<StreamOutbox<Response>>& outbox() const { return outbox_; }

  void OnSendInitialMetadataDone(bool ok) override { outbox_->writeDone(ok); }
  void OnWriteDone(bool ok) override { outbox_->writeDone(ok); }
  void OnCancel() override { outbox_->cancel(); }
  void OnDone() override {
    outbox_->detach();
    if (on_done_) {
      on_done_(outbox_->status());
    }
    delete this;
  }

 private:
  void sendHeaders() override { this->StartSendInitialMetadata(); }
  void startWrite(const Response* message) override { this->StartWrite(message); }
  void finish(const grpc::Status& status) override { this->Finish(status); }

  std::shared_ptr<StreamOutbox<Response>> outbox_;
  DoneFn on_done_;
};

}  // namespace vigie
