#include "agent/cli/fleet_poller.h"

#include <grpcpp/client_context.h>
#include <grpcpp/support/async_unary_call.h>

#include <chrono>
#include <utility>

#include "agent/api/grpc_code_name.h"
#include "agent/cli/rpc_errors.h"
#include "vigie/config.h"

namespace vigie::cli {
namespace {

std::chrono::system_clock::time_point deadlineAfter(Duration timeout) {
  // gRPC takes deadlines on the system clock; it turns them into its own monotonic ones.
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(timeout);
}

}  // namespace

std::string describeFailedPoll(const FleetTarget& target, const grpc::Status& status,
                               Duration timeout) {
  std::string why;
  switch (status.error_code()) {
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      why = "no answer within " + formatDuration(timeout);
      break;
    case grpc::StatusCode::UNAVAILABLE:
      why = "cannot reach the agent: " + lastErrorCause(status.error_message());
      break;
    default:
      why = status.error_message().empty() ? "call failed" : status.error_message();
  }
  return target.address + ": " + why + " (" + std::string(grpcCodeName(status.error_code())) + ")";
}

// An async call in flight, and the tag its completion comes back with.
class FleetPoller::Call {
 public:
  explicit Call(size_t index, Duration timeout) : index_(index) {
    context_.set_deadline(deadlineAfter(timeout));
  }
  virtual ~Call() = default;
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  virtual bool isHeartbeat() const = 0;
  size_t index() const { return index_; }
  const grpc::Status& status() const { return status_; }
  void cancel() { context_.TryCancel(); }

 protected:
  grpc::ClientContext context_;
  grpc::Status status_;

 private:
  size_t index_;
};

class FleetPoller::HeartbeatCall final : public Call {
 public:
  HeartbeatCall(size_t index, Duration timeout, v1::Agent::Stub& stub,
                const v1::HeartbeatRequest& request, grpc::CompletionQueue& queue)
      : Call(index, timeout), reader_(stub.PrepareAsyncHeartbeat(&context_, request, &queue)) {
    reader_->StartCall();
    reader_->Finish(&response_, &status_, this);
  }
  bool isHeartbeat() const override { return true; }
  const v1::HeartbeatResponse& response() const { return response_; }

 private:
  v1::HeartbeatResponse response_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::HeartbeatResponse>> reader_;
};

class FleetPoller::NodeInfoCall final : public Call {
 public:
  NodeInfoCall(size_t index, Duration timeout, v1::Agent::Stub& stub, grpc::CompletionQueue& queue)
      : Call(index, timeout),
        reader_(stub.PrepareAsyncGetNode(&context_, v1::GetNodeRequest{}, &queue)) {
    reader_->StartCall();
    reader_->Finish(&response_, &status_, this);
  }
  bool isHeartbeat() const override { return false; }
  const v1::GetNodeResponse& response() const { return response_; }

 private:
  v1::GetNodeResponse response_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::GetNodeResponse>> reader_;
};

FleetPoller::FleetPoller(const std::vector<FleetTarget>& targets,
                         const FleetChannelFactory& channels, FleetPollerOptions options)
    : options_(options) {
  nodes_.reserve(targets.size());
  peers_.reserve(targets.size());
  for (const FleetTarget& target : targets) {
    nodes_.emplace_back(target, options_.down_after);
    Peer peer;
    peer.stub = v1::Agent::NewStub(channels.channel(target));
    peers_.push_back(std::move(peer));
  }
}

FleetPoller::~FleetPoller() {
  for (Peer& peer : peers_) {
    if (peer.heartbeat) {
      peer.heartbeat->cancel();
    }
    if (peer.info) {
      peer.info->cancel();
    }
  }
  queue_.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (queue_.Next(&tag, &ok)) {
    Call* call = static_cast<Call*>(tag);
    Peer& peer = peers_[call->index()];
    if (call->isHeartbeat()) {
      peer.heartbeat.reset();
    } else {
      peer.info.reset();
    }
  }
}

void FleetPoller::pollRound() {
  ++rounds_;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (peers_[i].heartbeat) {
      // Cannot happen while rounds wait for their calls; never two polls in flight to one node.
      nodes_[i].missed(nodes_[i].target().address + ": the previous poll is still in flight");
      continue;
    }
    startHeartbeat(i);
  }
  while (heartbeats_in_flight_ > 0) {
    handleNext(MonoTime::max());
  }
}

void FleetPoller::waitUntil(MonoTime when) {
  while (handleNext(when)) {
  }
}

void FleetPoller::finishCalls() {
  while (callsInFlight() > 0) {
    handleNext(MonoTime::max());
  }
}

bool FleetPoller::usageDue(size_t index) const {
  if (!nodes_[index].usage() || options_.usage_every <= 1) {
    return true;
  }
  return (rounds_ + index) % options_.usage_every == 0;
}

void FleetPoller::startHeartbeat(size_t index) {
  v1::HeartbeatRequest request;
  if (const auto since = nodes_[index].state().since()) {
    *request.mutable_since() = *since;
  }
  request.set_with_usage(usageDue(index));
  peers_[index].heartbeat = std::make_unique<HeartbeatCall>(index, options_.call_timeout,
                                                            *peers_[index].stub, request, queue_);
  ++heartbeats_in_flight_;
}

void FleetPoller::startNodeInfo(size_t index) {
  peers_[index].info =
      std::make_unique<NodeInfoCall>(index, options_.call_timeout, *peers_[index].stub, queue_);
  ++infos_in_flight_;
}

bool FleetPoller::handleNext(MonoTime deadline) {
  void* tag = nullptr;
  bool ok = false;
  grpc::CompletionQueue::NextStatus got = grpc::CompletionQueue::TIMEOUT;
  if (deadline == MonoTime::max()) {
    got =
        queue_.Next(&tag, &ok) ? grpc::CompletionQueue::GOT_EVENT : grpc::CompletionQueue::SHUTDOWN;
  } else {
    const Duration left = deadline - std::chrono::steady_clock::now();
    if (left <= Duration::zero()) {
      got = queue_.AsyncNext(&tag, &ok, std::chrono::system_clock::now());
    } else {
      got = queue_.AsyncNext(&tag, &ok, deadlineAfter(left));
    }
  }
  if (got != grpc::CompletionQueue::GOT_EVENT) {
    return false;
  }
  const Call* call = static_cast<const Call*>(tag);
  if (call->isHeartbeat()) {
    heartbeatDone(call->index());
  } else {
    nodeInfoDone(call->index());
  }
  return true;
}

void FleetPoller::heartbeatDone(size_t index) {
  const MonoTime received = std::chrono::steady_clock::now();
  std::unique_ptr<HeartbeatCall> call = std::move(peers_[index].heartbeat);
  --heartbeats_in_flight_;
  FleetNode& node = nodes_[index];
  if (!call->status().ok()) {
    node.missed(describeFailedPoll(node.target(), call->status(), options_.call_timeout));
    return;
  }
  // A refused diff is recorded on the node (lastError) and fixed by the next poll.
  (void)node.answered(call->response(), received);
  if (hook_) {
    hook_(node, call->response(), received);
  }
  if (node.needsInfo() && !peers_[index].info) {
    startNodeInfo(index);
  }
}

void FleetPoller::nodeInfoDone(size_t index) {
  std::unique_ptr<NodeInfoCall> call = std::move(peers_[index].info);
  --infos_in_flight_;
  // A failed GetNode is asked again after the next answered Heartbeat; the poll itself is fine.
  if (call->status().ok() && call->response().has_node()) {
    nodes_[index].described(call->response().node());
  }
}

}  // namespace vigie::cli
