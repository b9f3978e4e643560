#pragma once

#include <grpcpp/support/server_callback.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace vigie {

// A unary call that the loop will answer. Exactly one side answers it: the loop task that claims
// it first, or the service's shutdown when the loop never got to it.
struct PendingCall {
  PendingCall(grpc::ServerUnaryReactor* call_reactor, std::string_view call_method)
      : reactor(call_reactor), method(call_method) {}

  // True for the one caller that may fill the response and finish the call.
  bool claim() { return !answered.exchange(true); }

  grpc::ServerUnaryReactor* const reactor;
  const std::string method;
  std::atomic<bool> answered{false};
};

// The unary calls posted to the loop and not answered yet. Thread-safe.
class PendingCalls {
 public:
  // Null once closing: the caller answers the call itself.
  std::shared_ptr<PendingCall> add(grpc::ServerUnaryReactor* reactor, std::string_view method) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closing_) {
      return nullptr;
    }
    auto call = std::make_shared<PendingCall>(reactor, method);
    calls_.emplace(call.get(), call);
    return call;
  }

  void remove(const PendingCall* call) {
    std::lock_guard<std::mutex> lock(mutex_);
    calls_.erase(call);
  }

  // Refuses new calls and hands back those not yet claimed by the loop, claimed for the caller.
  template <class AnswerFn>
  void closeAll(AnswerFn answer) {
    std::unordered_map<const PendingCall*, std::shared_ptr<PendingCall>> calls;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closing_ = true;
      calls.swap(calls_);
    }
    for (auto& [key, call] : calls) {
      if (call->claim()) {
        answer(*call);
      }
    }
  }

 private:
  std::mutex mutex_;
  bool closing_ = false;
  std::unordered_map<const PendingCall*, std::shared_ptr<PendingCall>> calls_;
};

}  // namespace vigie
