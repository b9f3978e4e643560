#include "agent/health/notify_router.h"

#include <unistd.h>

#include <utility>

namespace vigie {

NotifyRouter::Registration::Registration(Registration&& other) noexcept
    : router_(std::exchange(other.router_, nullptr)), pid_(other.pid_), id_(other.id_) {}

NotifyRouter::Registration& NotifyRouter::Registration::operator=(Registration&& other) noexcept {
  if (this != &other) {
    reset();
    router_ = std::exchange(other.router_, nullptr);
    pid_ = other.pid_;
    id_ = other.id_;
  }
  return *this;
}

void NotifyRouter::Registration::reset() {
  if (router_ != nullptr) {
    auto it = router_->handlers_.find(pid_);
    if (it != router_->handlers_.end() && it->second.id == id_) {
      router_->handlers_.erase(it);
    }
    router_ = nullptr;
  }
}

NotifyRouter::NotifyRouter(GroupOf group_of) : group_of_(std::move(group_of)) {
  if (!group_of_) {
    group_of_ = [](pid_t pid) { return ::getpgid(pid); };
  }
}

NotifyRouter::Registration NotifyRouter::add(pid_t main_pid, Handler handler) {
  const uint64_t id = next_id_++;
  handlers_[main_pid] = Claim{id, std::move(handler)};
  return Registration(this, main_pid, id);
}

bool NotifyRouter::deliver(pid_t sender, std::string_view datagram) {
  auto it = handlers_.find(sender);
  if (it == handlers_.end()) {
    // Not a main process: maybe one of its group. Asked only on a miss, so a main process's
    // pings cost no system call.
    const pid_t group = sender > 0 ? group_of_(sender) : -1;
    it = group > 0 ? handlers_.find(group) : handlers_.end();
  }
  if (it == handlers_.end()) {
    ++unclaimed_;
    return false;
  }
  // A copy: the handler may end the claim (and so destroy itself) while it runs.
  const Handler handler = it->second.handler;
  handler(parseNotifyMessage(datagram));
  return true;
}

}  // namespace vigie
