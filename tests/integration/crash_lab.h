// What the crash query tests share: a vigied that installs its core_pattern (the build's
// vigie-coredump) and serves its API on a unix socket and, for a read-role client, over
// TCP+mTLS; units that crash when the test says so (a fifo); gRPC clients; and vigiectl runs.
//
// These tests rewrite /proc/sys/kernel/core_pattern: they live in incident_integration_tests
// (the `core_pattern` lock and fixture), and each puts the host's pattern back itself too.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "vigie/v1/agent.grpc.pb.h"

namespace vigie::testing {

// The host's core_pattern, put back when the test ends, whatever vigied did.
class CorePatternGuard {
 public:
  CorePatternGuard();
  ~CorePatternGuard();
  CorePatternGuard(const CorePatternGuard&) = delete;
  CorePatternGuard& operator=(const CorePatternGuard&) = delete;

 private:
  std::string saved_;
};

std::string crasherPath(const std::string& name);  // build/tests/helpers/crashers/NAME

// A CA, the agent's certificate for 127.0.0.1, and two clients: "sre" (admin), "poller" (read).
class TestCertificates {
 public:
  explicit TestCertificates(const TempDir& dir);
  std::string path(const std::string& name) const { return dir_.file(name); }
  std::string apiSection(int port) const;  // `api: tcp:` with both clients
  // vigiectl's --server ... --tls-* flags as `who`.
  std::vector<std::string> cliFlags(int port, const std::string& who) const;
  std::unique_ptr<v1::Agent::Stub> tlsClient(int port, const std::string& who) const;

 private:
  const TempDir& dir_;
};

int freeTcpPort();

// A `workloads:` entry whose process waits for triggerUnit(NAME) (a fifo in `dir`), then
// execs `crasher`; restarted at once after a crash, then after 60s.
std::string triggeredUnit(const TempDir& dir, const std::string& name, const std::string& crasher,
                          const std::string& extra_yaml = "");
// Lets the unit NAME's current instance go on to crash.
void triggerUnit(const TempDir& dir, const std::string& name);

// vigied with crash capture installed and the API on DIR/vigie.sock (and TCP when configured).
class CrashAgent {
 public:
  // `workloads`: the YAML of `workloads:` entries (each "  - name: ..."); `api`: an `api:`
  // section or "". REQUIREs that the agent serves its socket.
  CrashAgent(const TempDir& dir, const std::string& workloads, const std::string& api = "");
  ~CrashAgent();

  v1::Agent::Stub& admin() { return *admin_; }
  const std::string& socket() const { return socket_; }
  DaemonProcess& daemon() { return *daemon_; }
  std::string log() const { return daemon_->stderrText(); }

  // Polls ListCrashes until an incident of `unit` has settled (not pending); REQUIREs one.
  v1::CrashSummary waitSettled(const std::string& unit);
  // SIGTERM, and a clean exit (which puts the host's core_pattern back).
  bool stop();

 private:
  const TempDir& dir_;
  CorePatternGuard pattern_;
  std::string socket_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<v1::Agent::Stub> admin_;
};

// A finished vigiectl run.
struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};
std::ostream& operator<<(std::ostream& os, const CliRun& run);
CliRun runVigiectl(const TempDir& dir, const std::vector<std::string>& args);

// Runs `argv` to its end with stdout and stderr together; returns them, and the exit code.
std::string runCapture(const TempDir& dir, const std::vector<std::string>& argv, int* exit_code);

}  // namespace vigie::testing
