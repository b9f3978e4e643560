// Shared by the benchmarks (heartbeat_qps, fleet_bench, restart_latency, container_restart): a
// private work dir, test certificates made with openssl, clocks and percentiles, and what the
// ones that run vigied write and read (YAML quoting, log tails, pids of their workload).
#pragma once

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vigie/result.h"

namespace vigie::bench {

int64_t monoNs();
// nanosleep: a signal ends it early (EINTR), so callers re-check their deadlines and flags.
void sleepNs(int64_t ns);
double cpuSeconds(const rusage& usage);  // user + system

// Nearest rank on a sorted copy; 0 for an empty sample.
int64_t percentile(std::vector<int64_t> samples, double percent);

// mkdtemp under /tmp, removed with its contents on destruction unless kept.
class WorkDir {
 public:
  static Result<WorkDir> create(const std::string& prefix, bool keep);
  WorkDir(WorkDir&& other) noexcept;
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  WorkDir& operator=(WorkDir&&) = delete;
  ~WorkDir();

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  WorkDir(std::string path, bool keep) : path_(std::move(path)), keep_(keep) {}
  std::string path_;
  bool keep_ = false;
};

// PEM files made by openssl in `dir`: one CA that signs the agents' server certificate
// (CN=localhost, SAN DNS:localhost and IP:127.0.0.1) and a client certificate with CN `client`.
struct BenchCertificates {
  std::string ca;
  std::string server_cert;
  std::string server_key;
  std::string client_cert;
  std::string client_key;
};
Result<BenchCertificates> makeCertificates(const std::string& dir, const std::string& client);

std::string readWholeFile(const std::string& path);
Status writeWholeFile(const std::string& path, const std::string& text);

// A program next to this one (/proc/self/exe's directory).
std::string besideSelf(const std::string& name);

std::string loadAverage();

// `text` as a double-quoted YAML scalar.
std::string yamlQuote(const std::string& text);

// The last `max_lines` lines of a log, indented for an error message ("(empty)" for none).
std::string logTail(const std::string& path, size_t max_lines);

// True if pid runs `binary` (its stat): then it is one of ours, not a recycled pid.
bool runsBinary(pid_t pid, const struct stat& binary);

}  // namespace vigie::bench
