#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "agent/health/notify_message.h"

namespace vigie {

// Routes sd_notify datagrams to the instance that sent them, by the sender's pid (from the
// socket's SCM_CREDENTIALS, which the kernel fills in: a workload cannot claim another's pid).
// A datagram is an instance's when it comes from its main process, or from a process of the
// main process's group (a workload leads its own group: `systemd-notify` run from a shell
// script, a helper child). Loop thread only.
class NotifyRouter {
 public:
  using Handler = std::function<void(const NotifyMessage&)>;
  // The process group of a pid; getpgid(2) by default, replaced in tests.
  using GroupOf = std::function<pid_t(pid_t)>;

  // An instance's claim on the datagrams of `pid`; dropping it ends the claim.
  class Registration {
   public:
    Registration() = default;
    Registration(NotifyRouter* router, pid_t pid, uint64_t id)
        : router_(router), pid_(pid), id_(id) {}
    Registration(Registration&& other) noexcept;
    Registration& operator=(Registration&& other) noexcept;
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration() { reset(); }
    void reset();

   private:
    NotifyRouter* router_ = nullptr;
    pid_t pid_ = 0;
    uint64_t id_ = 0;  // which claim: a reused pid's newer claim must survive the older's end.
  };

  explicit NotifyRouter(GroupOf group_of = {});
  NotifyRouter(const NotifyRouter&) = delete;
  NotifyRouter& operator=(const NotifyRouter&) = delete;

  [[nodiscard]] Registration add(pid_t main_pid, Handler handler);
  // Hands `datagram` to the instance `sender` belongs to. False when it belongs to none: it
  // is dropped (and counted).
  bool deliver(pid_t sender, std::string_view datagram);

  uint64_t unclaimed() const { return unclaimed_; }
  size_t size() const { return handlers_.size(); }

 private:
  struct Claim {
    uint64_t id = 0;
    Handler handler;
  };
  std::unordered_map<pid_t, Claim> handlers_;
  GroupOf group_of_;
  uint64_t next_id_ = 1;
  uint64_t unclaimed_ = 0;
};

}  // namespace vigie
