// sd_notify messages from workloads (parsing and routing by sender pid), and the HTTP probe's
// request and status line.
#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/health/http_status.h"
#include "agent/health/notify_message.h"
#include "agent/health/notify_router.h"

namespace vigie {
namespace {

TEST_CASE("health notify: assignments are parsed, unknown ones ignored, the last STATUS wins") {
  const NotifyMessage m =
      parseNotifyMessage("READY=1\nSTATUS=warming up\nMAINPID=42\nSTATUS=serving\nWATCHDOG=1");
  CHECK(m.ready);
  REQUIRE(m.status.has_value());
  CHECK(*m.status == "serving");
  CHECK(m.watchdog_ping);
  CHECK_FALSE(m.watchdog_trigger);
  CHECK_FALSE(m.stopping);

  CHECK(parseNotifyMessage("WATCHDOG=trigger").watchdog_trigger);
  CHECK(parseNotifyMessage("STOPPING=1\n").stopping);
  CHECK(parseNotifyMessage("STATUS=").status == std::string());
  // Only the exact assignments count.
  CHECK(parseNotifyMessage("READY=0\nREADY=yes\nWATCHDOG=0\nFDSTORE=1").empty());
  CHECK(parseNotifyMessage("").empty());
}

struct RouterFixture {
  RouterFixture()
      : router([this](pid_t pid) { return leader(groups, pid); },
               [this](pid_t pid) { return leader(sessions, pid); }) {}

  static pid_t leader(const std::map<pid_t, pid_t>& leaders, pid_t pid) {
    auto it = leaders.find(pid);
    return it == leaders.end() ? -1 : it->second;
  }

  std::map<pid_t, pid_t> groups;    // pid -> process group
  std::map<pid_t, pid_t> sessions;  // pid -> session
  NotifyRouter router;
};

TEST_CASE("health notify: datagrams go to the instance of their sender's pid, group or session") {
  RouterFixture f;
  std::vector<std::string> web;
  std::vector<std::string> db;
  auto web_claim = f.router.add(100, [&](const NotifyMessage& m) {
    web.push_back(m.status.value_or(m.ready ? "ready" : "?"));
  });
  auto db_claim =
      f.router.add(200, [&](const NotifyMessage& m) { db.push_back(m.status.value_or("?")); });
  CHECK(f.router.deliver(100, "READY=1"));
  CHECK(f.router.deliver(200, "STATUS=db"));
  // A child of web's main process, in its process group (systemd-notify from a script).
  f.groups[150] = 100;
  CHECK(f.router.deliver(150, "STATUS=from a child"));
  // The workload under a container's init (the main process): in the init's session, in a
  // group of its own.
  f.groups[160] = 160;
  f.sessions[160] = 100;
  CHECK(f.router.deliver(160, "STATUS=under tini"));
  // A process of no instance: dropped and counted.
  f.groups[300] = 300;
  f.sessions[300] = 300;
  CHECK_FALSE(f.router.deliver(300, "READY=1"));
  CHECK_FALSE(f.router.deliver(400, "READY=1"));
  CHECK(f.router.unclaimed() == 2);
  CHECK(web == std::vector<std::string>{"ready", "from a child", "under tini"});
  CHECK(db == std::vector<std::string>{"db"});
}

TEST_CASE("health notify: datagrams sent before the claim are replayed to it, in order") {
  RouterFixture f;
  // A container's PID 1 (pid 500) and the workload under its init (pid 510, session 500) speak
  // before vigied has adopted the container.
  f.groups[500] = 500;
  f.sessions[500] = 500;
  f.groups[510] = 510;
  f.sessions[510] = 500;
  f.groups[600] = 600;
  f.sessions[600] = 600;
  CHECK_FALSE(f.router.deliver(510, "STATUS=early"));
  CHECK_FALSE(f.router.deliver(600, "STATUS=someone else"));
  CHECK_FALSE(f.router.deliver(500, "READY=1"));
  CHECK(f.router.unclaimed() == 3);
  std::vector<std::string> got;
  auto claim = f.router.add(500, [&](const NotifyMessage& m) {
    got.push_back(m.status.value_or(m.ready ? "ready" : "?"));
  });
  CHECK(got.empty());  // not from inside add(): the owner is not set up yet.
  f.router.replay(500);
  CHECK(got == std::vector<std::string>{"early", "ready"});
  CHECK(f.router.unclaimed() == 1);
  f.router.replay(500);  // each datagram once
  CHECK(got.size() == 2);
}

TEST_CASE("health notify: a replayed message that ends the claim stops the replay") {
  RouterFixture f;
  f.groups[700] = 700;
  f.sessions[700] = 700;
  CHECK_FALSE(f.router.deliver(700, "WATCHDOG=trigger"));
  CHECK_FALSE(f.router.deliver(700, "STATUS=after"));
  std::optional<NotifyRouter::Registration> claim;
  int calls = 0;
  claim = f.router.add(700, [&](const NotifyMessage&) {
    ++calls;
    claim.reset();  // the instance ends: its monitor, and the claim, go
  });
  f.router.replay(700);
  CHECK(calls == 1);
}

TEST_CASE("health notify: an ended claim stops the routing, and never ends a newer claim") {
  RouterFixture f;
  int first = 0;
  int second = 0;
  auto claim = f.router.add(100, [&](const NotifyMessage&) { ++first; });
  CHECK(f.router.deliver(100, "WATCHDOG=1"));
  claim.reset();
  CHECK(f.router.size() == 0);
  CHECK_FALSE(f.router.deliver(100, "WATCHDOG=1"));

  // The pid is reused by a new instance while the old claim is still held somewhere.
  auto old_claim = f.router.add(100, [&](const NotifyMessage&) { ++first; });
  auto new_claim = f.router.add(100, [&](const NotifyMessage&) { ++second; });
  old_claim.reset();
  CHECK(f.router.deliver(100, "WATCHDOG=1"));
  CHECK(first == 1);
  CHECK(second == 1);

  // A handler may end its own claim while it runs.
  NotifyRouter::Registration self;
  self = f.router.add(500, [&](const NotifyMessage&) { self.reset(); });
  CHECK(f.router.deliver(500, "READY=1"));
  CHECK_FALSE(f.router.deliver(500, "READY=1"));
}

TEST_CASE("health http: status lines, healthy codes and the request") {
  CHECK(parseHttpStatusLine("HTTP/1.1 200 OK") == 200);
  CHECK(parseHttpStatusLine("HTTP/1.0 503 Service Unavailable") == 503);
  CHECK(parseHttpStatusLine("HTTP/1.1 204") == 204);
  CHECK_FALSE(parseHttpStatusLine("HTTP/2 200 OK").has_value());
  CHECK_FALSE(parseHttpStatusLine("SSH-2.0-OpenSSH_9.2").has_value());
  CHECK_FALSE(parseHttpStatusLine("HTTP/1.1 20x OK").has_value());
  CHECK_FALSE(parseHttpStatusLine("HTTP/1.1 2000 OK").has_value());
  CHECK_FALSE(parseHttpStatusLine("").has_value());

  CHECK_FALSE(httpStatusHealthy(199));
  CHECK(httpStatusHealthy(200));
  CHECK(httpStatusHealthy(302));
  CHECK(httpStatusHealthy(399));
  CHECK_FALSE(httpStatusHealthy(400));
  CHECK_FALSE(httpStatusHealthy(500));

  CHECK(httpProbeRequest("/healthz", "[::1]:8080") ==
        "GET /healthz HTTP/1.0\r\nHost: [::1]:8080\r\nUser-Agent: vigie-probe\r\nAccept: "
        "*/*\r\nConnection: close\r\n\r\n");
}

}  // namespace
}  // namespace vigie
