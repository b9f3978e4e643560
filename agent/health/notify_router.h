#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "agent/health/notify_message.h"

namespace vigie {

// Routes sd_notify datagrams to the instance that sent them, by the sender's pid (from the
// socket's SCM_CREDENTIALS, which the kernel fills in: a workload cannot claim another's pid).
// A datagram is an instance's when it comes from its main process, or from a process of the
// main process's group or session (a workload leads its own session and group: `systemd-notify`
// run from a shell script, a helper child; in a container under `init: true` the init is the
// main process and the workload its child, in a group of its own). Loop thread only.
class NotifyRouter {
 public:
  using Handler = std::function<void(const NotifyMessage&)>;
  // The process group or the session of a pid; getpgid(2) and getsid(2) by default, replaced
  // in tests.
  using LeaderOf = std::function<pid_t(pid_t)>;

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

  explicit NotifyRouter(LeaderOf group_of = {}, LeaderOf session_of = {});
  NotifyRouter(const NotifyRouter&) = delete;
  NotifyRouter& operator=(const NotifyRouter&) = delete;

  [[nodiscard]] Registration add(pid_t main_pid, Handler handler);
  // Hands `datagram` to the instance `sender` belongs to. False when it belongs to none: it
  // is counted, and kept among the last kBacklog such datagrams for replay().
  bool deliver(pid_t sender, std::string_view datagram);
  // Hands the kept datagrams of `main_pid` (its own, its group's or its session's) to its
  // claim, in arrival order: a container's process runs, and may send READY=1, before its
  // runtime exits and vigied adopts it. Call once the claim's owner is ready for them.
  void replay(pid_t main_pid);

  // Datagrams no instance ever claimed.
  uint64_t unclaimed() const { return unclaimed_; }
  size_t size() const { return handlers_.size(); }

 private:
  struct Claim {
    uint64_t id = 0;
    Handler handler;
  };
  struct Unclaimed {
    pid_t sender = 0;
    pid_t group = -1;
    pid_t session = -1;
    std::string datagram;
  };
  static constexpr size_t kBacklog = 64;

  std::unordered_map<pid_t, Claim> handlers_;
  std::deque<Unclaimed> backlog_;
  LeaderOf group_of_;
  LeaderOf session_of_;
  uint64_t next_id_ = 1;
  uint64_t unclaimed_ = 0;
};

}  // namespace vigie
