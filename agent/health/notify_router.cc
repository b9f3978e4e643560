#include "agent/health/notify_router.h"

#include <vector>

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

NotifyRouter::NotifyRouter(LeaderOf group_of, LeaderOf session_of)
    : group_of_(std::move(group_of)), session_of_(std::move(session_of)) {
  if (!group_of_) {
    group_of_ = [](pid_t pid) { return ::getpgid(pid); };
  }
  if (!session_of_) {
    session_of_ = [](pid_t pid) { return ::getsid(pid); };
  }
}

NotifyRouter::Registration NotifyRouter::add(pid_t main_pid, Handler handler) {
  const uint64_t id = next_id_++;
  handlers_[main_pid] = Claim{id, std::move(handler)};
  return Registration(this, main_pid, id);
}

bool NotifyRouter::deliver(pid_t sender, std::string_view datagram) {
  auto it = handlers_.find(sender);
  pid_t group = -1;
  pid_t session = -1;
  if (it == handlers_.end() && sender > 0) {
    // Not a main process: maybe one of its group or session. Asked only on a miss, so a main
    // process's pings cost no system call.
    group = group_of_(sender);
    it = group > 0 ? handlers_.find(group) : handlers_.end();
    if (it == handlers_.end()) {
      session = session_of_(sender);
      it = session > 0 ? handlers_.find(session) : handlers_.end();
    }
  }
  if (it == handlers_.end()) {
    ++unclaimed_;
    backlog_.push_back(Unclaimed{sender, group, session, std::string(datagram)});
    if (backlog_.size() > kBacklog) {
      backlog_.pop_front();
    }
    return false;
  }
  // A copy: the handler may end the claim (and so destroy itself) while it runs.
  const Handler handler = it->second.handler;
  handler(parseNotifyMessage(datagram));
  return true;
}

void NotifyRouter::replay(pid_t main_pid) {
  const auto claim = handlers_.find(main_pid);
  if (claim == handlers_.end() || main_pid <= 0) {
    return;
  }
  const uint64_t id = claim->second.id;
  std::vector<std::string> mine;
  std::erase_if(backlog_, [&](const Unclaimed& kept) {
    if (kept.sender != main_pid && kept.group != main_pid && kept.session != main_pid) {
      return false;
    }
    mine.push_back(kept.datagram);
    return true;
  });
  unclaimed_ -= mine.size();
  for (const std::string& datagram : mine) {
    // Each message may end the claim (a WATCHDOG=trigger ends the instance).
    const auto it = handlers_.find(main_pid);
    if (it == handlers_.end() || it->second.id != id) {
      return;
    }
    const Handler handler = it->second.handler;
    handler(parseNotifyMessage(datagram));
  }
}

}  // namespace vigie
