// sd_notify for the agent itself, for real: libsystemd sending to a datagram socket bound by the
// test, and the real build/bin/vigied started with NOTIFY_SOCKET and WATCHDOG_USEC pointing at
// it. Every wait has a deadline (poll on the socket); nothing sleeps for a fixed time.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/notify/libsystemd_notifier.h"
#include "agent/os/unique_fd.h"
#include "tests/integration/harness.h"

namespace vigie::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr Duration kNotifyTimeout = 10s;

// An AF_UNIX datagram socket bound in a temp dir: what systemd's notify socket looks like.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    REQUIRE_MESSAGE(fd_.valid(), "socket: " << std::strerror(errno));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path_.size() < sizeof(addr.sun_path));
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    REQUIRE_MESSAGE(::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0,
                    "bind " << path_ << ": " << std::strerror(errno));
  }

  const std::string& path() const { return path_; }

  // The next datagram, or nullopt once `deadline` has passed without one.
  std::optional<std::string> receive(SteadyClock::time_point deadline) {
    for (;;) {
      char buffer[4096];
      const ssize_t n = ::recv(fd_.get(), buffer, sizeof(buffer), MSG_DONTWAIT | MSG_TRUNC);
      if (n >= 0) {
        REQUIRE(static_cast<size_t>(n) <= sizeof(buffer));
        std::string message(buffer, static_cast<size_t>(n));
        received.push_back(message);
        return message;
      }
      REQUIRE_MESSAGE((errno == EAGAIN || errno == EINTR), "recv: " << std::strerror(errno));
      const auto left = deadline - SteadyClock::now();
      if (left <= Duration::zero()) {
        return std::nullopt;
      }
      pollfd p{fd_.get(), POLLIN, 0};
      const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
      ::poll(&p, 1, static_cast<int>(ms));
    }
  }
  std::optional<std::string> receive(Duration timeout = kNotifyTimeout) {
    return receive(SteadyClock::now() + timeout);
  }
  // Whatever is queued now.
  std::vector<std::string> drain() {
    std::vector<std::string> out;
    while (auto message = receive(SteadyClock::now())) {
      out.push_back(*message);
    }
    return out;
  }

  // Every datagram received so far, for failure messages.
  std::string trail() const {
    std::string out;
    for (const auto& message : received) {
      std::string line = message;
      std::replace(line.begin(), line.end(), '\n', '|');
      out += "  " + line + "\n";
    }
    return out;
  }

  std::vector<std::string> received;

 private:
  std::string path_;
  UniqueFd fd_;
};

// Sets or unsets environment variables for one test and puts the old values back afterwards.
class ScopedEnv {
 public:
  ScopedEnv() = default;
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        ::unsetenv(it->first.c_str());
      }
    }
  }

  void set(const std::string& name, const std::string& value) {
    save(name);
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  void unset(const std::string& name) {
    save(name);
    ::unsetenv(name.c_str());
  }

 private:
  void save(const std::string& name) {
    const char* old = std::getenv(name.c_str());
    saved_.emplace_back(name, old != nullptr ? std::optional<std::string>(old) : std::nullopt);
  }

  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

std::string pidfileWorkloadConfig(const std::string& pidfile) {
  return "workloads:\n"
         "  - name: steady\n"
         "    exec: [\"" +
         helperPath() + "\", \"pidfile\", \"" + pidfile +
         "\"]\n"
         "    stop: {timeout: 5s}\n";
}

bool isWatchdog(const std::string& message) {
  return message == "WATCHDOG=1";
}

TEST_CASE("libsystemd notifier: sends to NOTIFY_SOCKET, and does nothing without it") {
  TempDir dir;
  NotifySocket socket(dir.file("notify.sock"));
  ScopedEnv env;
  LibsystemdNotifier notifier;

  env.unset("NOTIFY_SOCKET");
  CHECK(notifier.send("READY=1").ok());
  CHECK(socket.drain().empty());

  env.set("NOTIFY_SOCKET", socket.path());
  const Status sent = notifier.send("READY=1\nSTATUS=1 unit: 1 running");
  REQUIRE_MESSAGE(sent.ok(), sent.error().message);
  CHECK(socket.receive() == std::optional<std::string>("READY=1\nSTATUS=1 unit: 1 running"));
  CHECK(notifier.send("WATCHDOG=1").ok());
  CHECK(socket.receive() == std::optional<std::string>("WATCHDOG=1"));
  // unset_environment=0: the next ping still finds the socket.
  CHECK(std::getenv("NOTIFY_SOCKET") != nullptr);

  env.set("NOTIFY_SOCKET", dir.file("absent.sock"));
  const Status failed = notifier.send("READY=1\nSTATUS=x");
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().message.rfind("sd_notify(READY=1): ", 0) == 0);
  CHECK(failed.error().errno_value != 0);
}

TEST_CASE("libsystemd notifier: the watchdog applies when WATCHDOG_PID is unset or ours") {
  ScopedEnv env;
  LibsystemdNotifier notifier;

  env.unset("WATCHDOG_USEC");
  env.unset("WATCHDOG_PID");
  auto none = notifier.watchdogTimeout();
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());

  env.set("WATCHDOG_USEC", "200000");
  auto unset_pid = notifier.watchdogTimeout();
  REQUIRE(unset_pid.ok());
  CHECK(unset_pid.value() == std::optional<Duration>(200ms));
  CHECK(std::getenv("WATCHDOG_USEC") != nullptr);  // not consumed.

  env.set("WATCHDOG_PID", std::to_string(::getpid()));
  auto our_pid = notifier.watchdogTimeout();
  REQUIRE(our_pid.ok());
  CHECK(our_pid.value() == std::optional<Duration>(200ms));

  env.set("WATCHDOG_PID", std::to_string(::getpid() + 1));
  auto other_pid = notifier.watchdogTimeout();
  REQUIRE(other_pid.ok());
  CHECK_FALSE(other_pid->has_value());

  env.unset("WATCHDOG_PID");
  env.set("WATCHDOG_USEC", "soon");
  auto invalid = notifier.watchdogTimeout();
  REQUIRE_FALSE(invalid.ok());
  CHECK(invalid.error().errno_value == EINVAL);
}

TEST_CASE("vigied sd_notify: READY=1 with STATUS, watchdog pings, STOPPING=1, then exit 0") {
  TempDir dir;
  NotifySocket socket(dir.file("notify.sock"));
  const std::string pidfile = dir.file("steady.pid");
  const std::string config = dir.file("vigie.yaml");
  writeFile(config, pidfileWorkloadConfig(pidfile));
  DaemonProcess vigied(
      dir, {.args = daemonArgs(dir, config),
            .extra_env = {{"NOTIFY_SOCKET", socket.path()}, {"WATCHDOG_USEC", "200000"}},
            .unset_env = {"WATCHDOG_PID"}});

  // 1. READY=1 first, with the summary of the units it has just started.
  const std::optional<std::string> first = socket.receive();
  REQUIRE_MESSAGE(first.has_value(), "no datagram from vigied\n" << vigied.stderrText());
  CHECK(*first == "READY=1\nSTATUS=1 unit: 1 running");
  REQUIRE_MESSAGE(pollUntil([&] { return readPids(pidfile).size() == 1; }), vigied.stderrText());

  // 2. Pings every 100 ms (half of WATCHDOG_USEC): two must come well within the deadline.
  const auto ping_deadline = SteadyClock::now() + kNotifyTimeout;
  int pings = 0;
  while (pings < 2) {
    const std::optional<std::string> message = socket.receive(ping_deadline);
    REQUIRE_MESSAGE(message.has_value(), "fewer than 2 WATCHDOG=1 in 10s; received:\n"
                                             << socket.trail() << vigied.stderrText());
    CHECK_MESSAGE(isWatchdog(*message), "unexpected datagram from a steady agent:\n"
                                            << socket.trail());
    pings += isWatchdog(*message) ? 1 : 0;
  }
  REQUIRE(vigied.running());

  // 3. SIGTERM: STOPPING=1 arrives (sent by a live vigied, before its exit), then exit 0.
  REQUIRE(::kill(vigied.pid(), SIGTERM) == 0);
  const auto stop_deadline = SteadyClock::now() + kNotifyTimeout;
  bool stopping = false;
  while (!stopping) {
    const std::optional<std::string> message = socket.receive(stop_deadline);
    REQUIRE_MESSAGE(message.has_value(), "no STOPPING=1 within 10s of SIGTERM; received:\n"
                                             << socket.trail() << vigied.stderrText());
    stopping = *message == "STOPPING=1";
    // Nothing but pings can come between the pings above and STOPPING=1.
    CHECK_MESSAGE((stopping || isWatchdog(*message)), socket.trail());
  }
  REQUIRE_MESSAGE(vigied.waitExit(kNotifyTimeout), vigied.stderrText());
  CHECK_MESSAGE(vigied.exitCode() == 0, vigied.describeStatus() << "\n" << vigied.stderrText());

  // After STOPPING=1 only pings and unit summaries may follow; never a second READY=1.
  for (const std::string& message : socket.drain()) {
    CHECK_MESSAGE((isWatchdog(message) || message.rfind("STATUS=", 0) == 0), socket.trail());
  }
  CHECK(std::count(socket.received.begin(), socket.received.end(), "STOPPING=1") == 1);
}

TEST_CASE("vigied sd_notify: a watchdog meant for another pid is not pinged") {
  TempDir dir;
  NotifySocket socket(dir.file("notify.sock"));
  const std::string pidfile = dir.file("steady.pid");
  const std::string config = dir.file("vigie.yaml");
  writeFile(config, pidfileWorkloadConfig(pidfile));
  DaemonProcess vigied(dir, {.args = daemonArgs(dir, config),
                             .extra_env = {{"NOTIFY_SOCKET", socket.path()},
                                           {"WATCHDOG_USEC", "200000"},
                                           {"WATCHDOG_PID", "1"}}});

  const std::optional<std::string> first = socket.receive();
  REQUIRE_MESSAGE(first.has_value(), "no datagram from vigied\n" << vigied.stderrText());
  CHECK(first->rfind("READY=1\n", 0) == 0);
  // An enabled watchdog pings as soon as it starts, right after READY=1 and before the loop
  // runs: by the time STOPPING=1 (which the loop sends) arrives, a ping would be there.
  REQUIRE(::kill(vigied.pid(), SIGTERM) == 0);
  const auto deadline = SteadyClock::now() + kNotifyTimeout;
  bool stopping = false;
  while (!stopping) {
    const std::optional<std::string> message = socket.receive(deadline);
    REQUIRE_MESSAGE(message.has_value(), "no STOPPING=1:\n"
                                             << socket.trail() << vigied.stderrText());
    stopping = *message == "STOPPING=1";
  }
  REQUIRE_MESSAGE(vigied.waitExit(kNotifyTimeout), vigied.stderrText());
  CHECK(vigied.exitCode() == 0);
  socket.drain();
  CHECK_MESSAGE(std::none_of(socket.received.begin(), socket.received.end(), isWatchdog),
                socket.trail());
}

TEST_CASE("vigied sd_notify: a NOTIFY_SOCKET nobody listens on is harmless, and logged once") {
  TempDir dir;
  const std::string pidfile = dir.file("steady.pid");
  const std::string config = dir.file("vigie.yaml");
  writeFile(config, pidfileWorkloadConfig(pidfile));
  DaemonProcess vigied(
      dir, {.args = daemonArgs(dir, config),
            .extra_env = {{"NOTIFY_SOCKET", dir.file("absent.sock")}, {"WATCHDOG_USEC", "200000"}},
            .unset_env = {"WATCHDOG_PID"}});
  REQUIRE_MESSAGE(pollUntil([&] { return readPids(pidfile).size() == 1; }), vigied.stderrText());
  REQUIRE(vigied.waitForLog("sd_notify("));
  REQUIRE(::kill(vigied.pid(), SIGTERM) == 0);
  REQUIRE_MESSAGE(vigied.waitExit(kNotifyTimeout), vigied.stderrText());
  CHECK_MESSAGE(vigied.exitCode() == 0, vigied.describeStatus() << "\n" << vigied.stderrText());
  // READY=1 failed and so did every ping after it: one line for the whole run of failures.
  CHECK_MESSAGE(linesContaining(vigied.stderrText(), "sd_notify(").size() == 1,
                vigied.stderrText());
}

}  // namespace
}  // namespace vigie::testing
