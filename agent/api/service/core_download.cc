#include "agent/api/service/core_download.h"

namespace vigie {

void CoreDownloadControl::close(const grpc::Status& status, bool /*drain*/) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!closed_) {
    closed_ = true;
    status_ = status;
  }
}

bool CoreDownloadControl::closed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return closed_;
}

grpc::Status CoreDownloadControl::closeStatus() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return status_;
}

CoreDownloadReactor::CoreDownloadReactor(std::unique_ptr<CoreReader> reader,
                                         v1::DownloadCoreResponse header,
                                         std::shared_ptr<CoreDownloadControl> control, DoneFn done)
    : reader_(std::move(reader)),
      control_(std::move(control)),
      done_(std::move(done)),
      message_(std::move(header)) {
  writeNext();
}

void CoreDownloadReactor::writeNext() {
  // Writes and their completions alternate: no two run at once, so no lock is needed here.
  if (control_->closed()) {
    finish(control_->closeStatus());
    return;
  }
  auto chunk = reader_->next(kCoreChunkBytes);
  if (!chunk) {
    finish(grpc::Status(grpc::StatusCode::DATA_LOSS, chunk.error().message));
    return;
  }
  if (chunk->empty() && !first_) {
    finish(grpc::Status::OK);
    return;
  }
  if (!first_) {
    message_.Clear();
  }
  first_ = false;
  message_.set_data(std::move(*chunk));
  StartWrite(&message_);
}

void CoreDownloadReactor::OnWriteDone(bool ok) {
  if (!ok) {
    finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
    return;
  }
  writeNext();
}

void CoreDownloadReactor::finish(const grpc::Status& status) {
  status_ = status;
  control_->close(status, /*drain=*/false);
  Finish(status);
}

void CoreDownloadReactor::OnDone() {
  if (done_) {
    done_(status_);
  }
  delete this;
}

}  // namespace vigie
