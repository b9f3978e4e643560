// The real probes and the real notify socket, in-process on a real loop: an HTTP exchange with a
// server thread, a refused connect, an exec probe's exit code and output, a cancelled exec probe
// killed and reaped, and sd_notify datagrams identified by the kernel's credentials.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/health/linux_probe_factory.h"
#include "agent/health/notify_router.h"
#include "agent/health/notify_socket.h"
#include "tests/integration/harness.h"

namespace vigie::testing {
namespace {

std::string healthHelperPath() {
  return std::string(VIGIE_HELPERS_DIR) + "/health_workload";
}

// A listening socket on 127.0.0.1 with a kernel-chosen port.
struct Listener {
  Listener() {
    fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(fd.valid());
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    REQUIRE(::listen(fd.get(), 4) == 0);
    socklen_t length = sizeof(address);
    REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port = ntohs(address.sin_port);
  }

  UniqueFd fd;
  uint16_t port = 0;
};

// Answers one connection with `answer` (after reading the request), on a thread of its own.
class OneShotServer {
 public:
  explicit OneShotServer(std::string answer) : answer_(std::move(answer)) {
    thread_ = std::thread([this] {
      UniqueFd conn(::accept4(listener_.fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!conn) {
        return;
      }
      char buffer[2048];
      std::string got;
      while (got.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::read(conn.get(), buffer, sizeof(buffer));
        if (n <= 0) {
          break;
        }
        got.append(buffer, static_cast<size_t>(n));
      }
      request = got;
      if (!answer_.empty()) {
        (void)!::write(conn.get(), answer_.data(), answer_.size());
      }
    });
  }
  ~OneShotServer() { join(); }

  void join() {
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  uint16_t port() const { return listener_.port; }
  std::string request;  // read after join().

 private:
  Listener listener_;
  std::string answer_;
  std::thread thread_;
};

struct ProbeFixture {
  ProbeFixture() : factory(agent.loop(), agent.spawner()) {
    exec_base.env = {"PATH=/usr/bin:/bin"};
    exec_base.cwd = "/";
  }

  // Runs one probe to its result (or to a failure to start, which is a result too).
  ProbeResult run(const ProbeSpec& spec) {
    std::optional<ProbeResult> result;
    auto started = factory.start(spec, exec_base, [&](ProbeResult r) { result = std::move(r); });
    if (!started) {
      ProbeResult failed;
      failed.status = started.error().message;
      return failed;
    }
    ProbeRunPtr handle = std::move(*started);
    REQUIRE(agent.runUntil([&] { return result.has_value(); }));
    return *result;
  }

  InProcessAgent agent;
  LinuxProbeFactory factory;
  SpawnSpec exec_base;
};

ProbeSpec httpProbe(uint16_t port, std::string path = "/healthz") {
  ProbeSpec spec;
  spec.kind = ProbeSpec::Kind::kHttp;
  spec.port = port;
  spec.path = std::move(path);
  return spec;
}

TEST_CASE("health probes: an HTTP GET passes on 2xx and 3xx, fails on the rest") {
  ProbeFixture f;
  {
    OneShotServer server("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n");
    const ProbeResult result = f.run(httpProbe(server.port()));
    CHECK(result.ok);
    CHECK(result.status == "HTTP 200");
  }
  {
    OneShotServer server("HTTP/1.0 302 Found\r\nLocation: /elsewhere\r\n\r\n");
    CHECK(f.run(httpProbe(server.port())).ok);
  }
  {
    OneShotServer server("HTTP/1.1 503 Service Unavailable\r\n\r\n");
    const ProbeResult result = f.run(httpProbe(server.port()));
    CHECK_FALSE(result.ok);
    CHECK(result.status == "HTTP 503");
  }
}

TEST_CASE("health probes: the request is an HTTP/1.0 GET of the path, with a Host header") {
  ProbeFixture f;
  OneShotServer server("HTTP/1.0 200 OK\r\n\r\n");
  CHECK(f.run(httpProbe(server.port(), "/ready?deep=1")).ok);
  server.join();
  CHECK(server.request.rfind("GET /ready?deep=1 HTTP/1.0\r\nHost: 127.0.0.1:" +
                                 std::to_string(server.port()) + "\r\n",
                             0) == 0);
  CHECK(server.request.find("Connection: close\r\n") != std::string::npos);
}

TEST_CASE("health probes: no answer, not HTTP, or a refused connect are failures") {
  ProbeFixture f;
  {
    OneShotServer server("");  // reads the request and closes.
    const ProbeResult result = f.run(httpProbe(server.port()));
    CHECK_FALSE(result.ok);
    CHECK(result.status == "connection closed without a response");
  }
  {
    OneShotServer server("SSH-2.0-OpenSSH_9.2\r\n");
    const ProbeResult result = f.run(httpProbe(server.port()));
    CHECK_FALSE(result.ok);
    CHECK(result.status == "not an HTTP response");
  }
  uint16_t closed_port = 0;
  {
    Listener gone;
    closed_port = gone.port;
  }
  ProbeSpec tcp;
  tcp.kind = ProbeSpec::Kind::kTcp;
  tcp.port = closed_port;
  const ProbeResult refused = f.run(tcp);
  CHECK_FALSE(refused.ok);
  CHECK(refused.status ==
        "connect 127.0.0.1:" + std::to_string(closed_port) + ": Connection refused");
}

TEST_CASE("health probes: a TCP probe passes once the connect completes") {
  ProbeFixture f;
  Listener open;
  ProbeSpec tcp;
  tcp.kind = ProbeSpec::Kind::kTcp;
  tcp.host = "127.0.0.1";
  tcp.port = open.port;
  const ProbeResult result = f.run(tcp);
  CHECK(result.ok);
  CHECK(result.status == "connected");
}

TEST_CASE("health probes: an exec probe's exit code is its verdict, with its output") {
  ProbeFixture f;
  ProbeSpec exec;
  exec.kind = ProbeSpec::Kind::kExec;
  exec.exec = {"/bin/sh", "-c", "echo checking; echo db is down >&2; exit 3"};
  ProbeResult result = f.run(exec);
  CHECK_FALSE(result.ok);
  CHECK(result.status == "exit code 3");
  CHECK(result.output.find("checking") != std::string::npos);
  CHECK(result.output.find("db is down") != std::string::npos);

  exec.exec = {"true"};  // found in the workload's PATH.
  result = f.run(exec);
  CHECK(result.ok);
  CHECK(result.status == "exit code 0");

  // The output kept is bounded.
  exec.exec = {"/bin/sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x; echo; echo last"};
  result = f.run(exec);
  CHECK(result.ok);
  CHECK(result.output.size() <= kProbeOutputMax);
  CHECK(result.output.find("last") != std::string::npos);

  exec.exec = {"/nonexistent/probe"};
  result = f.run(exec);
  CHECK_FALSE(result.ok);
  CHECK(result.status.find("/nonexistent/probe") != std::string::npos);
  CHECK(f.factory.execRunsInFlight() == 0);
}

TEST_CASE("health probes: a cancelled exec probe is killed and reaped") {
  ProbeFixture f;
  TempDir dir;
  const std::string pidfile = dir.file("probe.pids");
  ProbeSpec exec;
  exec.kind = ProbeSpec::Kind::kExec;
  exec.exec = {healthHelperPath(), "hang", pidfile};
  bool called = false;
  auto started = f.factory.start(exec, f.exec_base, [&](ProbeResult) { called = true; });
  REQUIRE(started.ok());
  REQUIRE(f.agent.runUntil([&] { return readPids(pidfile).size() == 1; }));
  const pid_t pid = readPids(pidfile)[0];
  CHECK(processAlive(pid));
  started->reset();  // what a timeout does.
  REQUIRE(f.agent.runUntil([&] { return f.factory.execRunsInFlight() == 0; }));
  CHECK_FALSE(called);
  // Reaped, not a zombie: its /proc entry is gone.
  struct stat st {};
  CHECK(::stat(("/proc/" + std::to_string(pid)).c_str(), &st) != 0);
}

// Sends `message` to the socket at `path`, with an extra fd attached when `with_fd`.
void sendDatagram(const std::string& path, const std::string& message, bool with_fd = false) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  REQUIRE(fd.valid());
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  iovec iov{const_cast<char*>(message.data()), message.size()};
  msghdr header{};
  header.msg_name = &address;
  header.msg_namelen = sizeof(address);
  header.msg_iov = &iov;
  header.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  UniqueFd passed;
  if (with_fd) {
    passed.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    header.msg_control = control;
    header.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&header);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    const int raw = passed.get();
    std::memcpy(CMSG_DATA(c), &raw, sizeof(int));
  }
  REQUIRE(::sendmsg(fd.get(), &header, 0) == static_cast<ssize_t>(message.size()));
}

size_t openFds() {
  size_t count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  while (const dirent* entry = ::readdir(dir)) {
    count += entry->d_name[0] != '.' ? 1 : 0;
  }
  ::closedir(dir);
  return count;
}

TEST_CASE("health notify socket: datagrams reach the claim of the sender's pid") {
  InProcessAgent agent;
  TempDir dir;
  NotifyRouter router;
  const std::string path = dir.file("notify");
  auto socket = NotifySocket::open(agent.loop(), path, router);
  REQUIRE_MESSAGE(socket.ok(), socket.error().message);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0666);

  // Nobody claims this process's datagrams yet: dropped.
  sendDatagram(path, "READY=1");
  REQUIRE(agent.runUntil([&] { return router.unclaimed() == 1; }));

  std::vector<std::string> statuses;
  bool ready = false;
  auto claim = router.add(::getpid(), [&](const NotifyMessage& message) {
    ready = ready || message.ready;
    if (message.status) {
      statuses.push_back(*message.status);
    }
  });
  const size_t fds_before = openFds();
  sendDatagram(path, "STATUS=one", /*with_fd=*/true);
  sendDatagram(path, "READY=1\nSTATUS=two");
  REQUIRE(agent.runUntil([&] { return ready; }));
  CHECK(statuses == std::vector<std::string>{"one", "two"});
  // The fd that came with the first datagram was closed at once.
  CHECK(openFds() == fds_before);

  // Too long for sd_notify: dropped whole.
  sendDatagram(path, "STATUS=" + std::string(NotifySocket::kMaxDatagram, 'x'));
  sendDatagram(path, "STATUS=three");
  REQUIRE(agent.runUntil([&] { return statuses.size() == 3; }));
  CHECK(statuses.back() == "three");
  CHECK((*socket)->malformed() == 1);

  socket->reset();
  CHECK(::stat(path.c_str(), &st) != 0);
}

}  // namespace
}  // namespace vigie::testing
