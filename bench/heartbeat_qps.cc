// heartbeat_qps: how many Heartbeat polls one real vigied serves per second, over its unix socket
// and over TCP+mTLS, with many concurrent pollers; and how much polling it at full speed slows
// the restart of a crash-looping unit.
//
// 1. Polls per second. vigied supervises N idle units (`sleep`). A load generator in this
//    process keeps `--in-flight` calls outstanding on each of `--channels` connections (async
//    gRPC, one completion-queue thread), each slot re-polling as soon as its answer arrives, for
//    `--seconds`. Two kinds of poll: idle diffs (`since` = the current version: the control
//    plane's steady state) and full states (no `since`). Reported: polls/s, call latency, and
//    vigied's CPU per poll (from /proc/PID/stat), since client and agent share this machine.
// 2. Restart latency under a poll storm. vigied supervises bench_crasher (the restart_latency
//    workload: exit -> next start, timed by the workload itself) next to the N idle units. Each
//    repeat runs it quiet, then while the storm polls it over both transports at full speed;
//    restarts are counted from the moment the storm is running. The ratio of the medians says
//    what the polling costs the restart path.
// A benchmark: exit 0 whatever the figures, 1 when a measurement could not be made.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "api_bench_util.h"
#include "record.h"
#include "record_file.h"
#include "vigie/v1/agent.grpc.pb.h"
#include "vigied_child.h"

namespace vigie::bench {
namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;
constexpr const char* kClientIdentity = "qps-poller";

struct Options {
  std::string vigied;
  std::string crasher;
  int units = 20;
  double seconds = 5;
  int channels = 8;
  int in_flight = 4;
  int restarts = 200;
  int repeat = 3;
  bool keep_work_dir = false;
  bool quick = false;
};

// ---------------------------------------------------------------------------------------------
// vigied

// A free TCP port on 127.0.0.1: bound, read, closed. Another program could take it before
// vigied does; the benchmark then fails to start and says so.
Result<int> freePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return Error::fromErrno("socket");
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    Error error = Error::fromErrno("bind 127.0.0.1:0");
    close(fd);
    return error;
  }
  close(fd);
  return static_cast<int>(ntohs(address.sin_port));
}

// N idle units, optionally the crasher first, the API on TCP+mTLS too, no metrics endpoint (so
// that runs never fight over its port).
std::string vigiedConfig(const Options& options, const BenchCertificates& certs, int port,
                         const std::string& crasher_record) {
  std::string out = "api:\n  tcp:\n";
  out += fmt::format("    listen: 127.0.0.1:{}\n", port);
  out += "    cert: " + yamlQuote(certs.server_cert) + "\n";
  out += "    key: " + yamlQuote(certs.server_key) + "\n";
  out += "    client_ca: " + yamlQuote(certs.ca) + "\n";
  out += fmt::format("    clients:\n      - {{identity: {}, role: read}}\n", kClientIdentity);
  out += "metrics:\n  listen: \"\"\n";
  out += "workloads:\n";
  if (!crasher_record.empty()) {
    out += "  - name: crasher\n";
    out += "    exec: [" + yamlQuote(options.crasher) + ", " + yamlQuote(crasher_record) + "]\n";
    out += "    output: {file: false}\n";
    out += "    restart: {policy: always, backoff: {initial: 0s, max: 0s}, limit: {burst: 0}}\n";
  }
  for (int i = 0; i < options.units; ++i) {
    out += fmt::format("  - name: idle-{:03}\n", i);
    out += "    exec: [\"/bin/sleep\", \"1000000\"]\n";
    out += "    output: {file: false}\n";
  }
  return out;
}

class Vigied {
 public:
  static Result<Vigied> start(const std::string& vigied, const std::string& config,
                              const std::string& dir) {
    // --cgroups off: a killed run must not leave a `vigie` cgroup parent behind, and cgroups
    // are not what this bench measures.
    VigiedChildOptions options;
    options.args = vigiedArgs(vigied, config, dir + "/state", dir + "/vigie.sock");
    options.args.insert(options.args.end(), {"--log-target", "stderr", "--cgroups", "off"});
    options.log = dir + "/vigied.log";
    options.null_stdin = false;  // vigied reads none; left as this bench has always run it.
    auto child = VigiedChild::start(options);
    if (!child) {
      return child.error();
    }
    return Vigied(std::move(*child), dir);
  }

  Vigied(Vigied&& other) noexcept = default;
  Vigied(const Vigied&) = delete;
  Vigied& operator=(const Vigied&) = delete;
  Vigied& operator=(Vigied&&) = delete;
  ~Vigied() = default;

  pid_t pid() const { return child_.pid(); }
  std::string socket() const { return dir_ + "/vigie.sock"; }
  bool running() { return child_.running(); }
  std::string logTail() const {
    const std::string log = readWholeFile(dir_ + "/vigied.log");
    return log.size() > 2000 ? log.substr(log.size() - 2000) : log;
  }

  // user + system CPU so far, from /proc/PID/stat (fields 14 and 15, in clock ticks).
  double cpuSeconds() const {
    const std::string stat = readWholeFile(fmt::format("/proc/{}/stat", pid()));
    const size_t close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) {
      return 0;
    }
    std::istringstream fields(stat.substr(close_paren + 2));
    std::string skip;
    for (int i = 3; i < 14; ++i) {
      fields >> skip;
    }
    double utime = 0;
    double stime = 0;
    fields >> utime >> stime;
    return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }

  void stop() { (void)child_.stop(); }

 private:
  Vigied(VigiedChild child, std::string dir) : child_(std::move(child)), dir_(std::move(dir)) {}
  VigiedChild child_;
  std::string dir_;
};

// ---------------------------------------------------------------------------------------------
// The load generator

std::shared_ptr<grpc::Channel> makeChannel(const std::string& target,
                                           const std::optional<BenchCertificates>& certs) {
  grpc::ChannelArguments args;
  // Each channel its own connection, as separate pollers would have.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (!certs) {
    return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  }
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = readWholeFile(certs->ca);
  tls.pem_cert_chain = readWholeFile(certs->client_cert);
  tls.pem_private_key = readWholeFile(certs->client_key);
  return grpc::CreateCustomChannel(target, grpc::SslCredentials(tls), args);
}

struct LoadResult {
  uint64_t answers = 0;
  uint64_t errors = 0;
  std::string first_error;
  std::vector<int64_t> latencies_ns;  // every answer's
  double seconds = 0;
};

// Keeps `in_flight` Heartbeats outstanding per channel, from one thread, until stopped. With
// `diffs`, each slot sends the version of its previous answer as `since` (the steady state of a
// control plane: mostly idle diffs); without, no `since` (a full state every time).
class HeartbeatLoad {
 public:
  HeartbeatLoad(const std::vector<std::shared_ptr<grpc::Channel>>& channels, int in_flight,
                bool diffs)
      : diffs_(diffs) {
    for (const auto& channel : channels) {
      stubs_.push_back(v1::Agent::NewStub(channel));
    }
    slots_ = static_cast<int>(stubs_.size()) * in_flight;
  }
  HeartbeatLoad(const HeartbeatLoad&) = delete;
  HeartbeatLoad& operator=(const HeartbeatLoad&) = delete;
  ~HeartbeatLoad() {
    if (thread_.joinable()) {
      (void)stop();
    }
  }

  void start() {
    started_ns_ = monoNs();
    thread_ = std::thread([this] { run(); });
  }

  LoadResult stop() {
    stopping_ = true;
    thread_.join();
    result_.seconds = static_cast<double>(stopped_ns_ - started_ns_) / 1e9;
    return std::move(result_);
  }

 private:
  struct Call {
    int slot = 0;
    int64_t started_ns = 0;
    grpc::ClientContext context;
    v1::HeartbeatResponse response;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<v1::HeartbeatResponse>> reader;
  };

  void issue(int slot, const std::optional<v1::StateVersion>& since) {
    auto* call = new Call();
    call->slot = slot;
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::HeartbeatRequest request;
    if (since) {
      *request.mutable_since() = *since;
    }
    call->started_ns = monoNs();
    auto& stub = *stubs_[static_cast<size_t>(slot) % stubs_.size()];
    call->reader = stub.PrepareAsyncHeartbeat(&call->context, request, &queue_);
    call->reader->StartCall();
    call->reader->Finish(&call->response, &call->status, call);
    ++outstanding_;
  }

  void run() {
    for (int slot = 0; slot < slots_; ++slot) {
      issue(slot, std::nullopt);
    }
    void* tag = nullptr;
    bool ok = false;
    while (outstanding_ > 0 && queue_.Next(&tag, &ok)) {
      std::unique_ptr<Call> call(static_cast<Call*>(tag));
      --outstanding_;
      const int64_t now = monoNs();
      std::optional<v1::StateVersion> since;
      if (call->status.ok()) {
        ++result_.answers;
        result_.latencies_ns.push_back(now - call->started_ns);
        if (diffs_) {
          since = call->response.version();
        }
      } else {
        if (result_.errors++ == 0) {
          result_.first_error = call->status.error_message();
        }
      }
      if (!stopping_) {
        issue(call->slot, since);
      } else if (stopped_ns_ == 0) {
        stopped_ns_ = now;  // the first answer after the stop: the end of the measured span
      }
    }
    if (stopped_ns_ == 0) {
      stopped_ns_ = monoNs();
    }
    queue_.Shutdown();
    while (queue_.Next(&tag, &ok)) {
    }
  }

  bool diffs_;
  int slots_ = 0;
  std::vector<std::unique_ptr<v1::Agent::Stub>> stubs_;
  grpc::CompletionQueue queue_;
  std::atomic<bool> stopping_{false};
  int outstanding_ = 0;
  int64_t started_ns_ = 0;
  int64_t stopped_ns_ = 0;
  LoadResult result_;
  std::thread thread_;
};

// Until the agent answers over `channel` with `units` units, all running.
Status waitUntilServing(Vigied& vigied, const std::shared_ptr<grpc::Channel>& channel, int units) {
  auto stub = v1::Agent::NewStub(channel);
  const int64_t deadline = monoNs() + 30 * kNsPerSec;
  std::string last = "no answer";
  while (monoNs() < deadline) {
    if (!vigied.running()) {
      return Error{"vigied exited early:\n" + vigied.logTail()};
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    v1::HeartbeatResponse response;
    const grpc::Status status = stub->Heartbeat(&context, v1::HeartbeatRequest{}, &response);
    if (status.ok()) {
      int running = 0;
      for (const v1::Unit& unit : response.units()) {
        running += unit.state() == v1::UNIT_STATE_RUNNING ? 1 : 0;
      }
      if (running >= units) {
        return Status::okStatus();
      }
      last = fmt::format("{} of {} units running", running, units);
    } else {
      last = status.error_message();
    }
    usleep(20'000);
  }
  return Error{"vigied did not serve within 30 s (" + last + "):\n" + vigied.logTail()};
}

// vigied on `config_text` (written to DIR/vigie.yaml), once it serves every unit on its socket.
Result<Vigied> startServing(const Options& options, const std::string& dir,
                            const std::string& config_text) {
  const std::string config = dir + "/vigie.yaml";
  if (Status written = writeWholeFile(config, config_text); !written) {
    return written.error();
  }
  auto vigied = Vigied::start(options.vigied, config, dir);
  if (!vigied) {
    return vigied.error();
  }
  if (Status serving = waitUntilServing(
          *vigied, makeChannel("unix:" + vigied->socket(), std::nullopt), options.units);
      !serving) {
    return serving.error();
  }
  return vigied;
}

// ---------------------------------------------------------------------------------------------
// Part 1: polls per second

Status measureQps(const Options& options, const WorkDir& work, const BenchCertificates& certs) {
  auto port = freePort();
  if (!port) {
    return port.error();
  }
  const std::string dir = work.file("qps");
  mkdir(dir.c_str(), 0700);
  auto vigied = startServing(options, dir, vigiedConfig(options, certs, *port, ""));
  if (!vigied) {
    return vigied.error();
  }
  const std::string unix_target = "unix:" + vigied->socket();
  const std::string tcp_target = fmt::format("127.0.0.1:{}", *port);

  fmt::print(
      "\n## Heartbeat polls per second: one vigied, {} running units, {} connections x {} "
      "calls in flight, {:.0f} s each\n\n",
      options.units, options.channels, options.in_flight, options.seconds);
  fmt::print("{:<10} {:<11} {:>9} {:>10} {:>10} {:>15} {:>15}\n", "transport", "poll", "polls/s",
             "p50 (ms)", "p99 (ms)", "vigied us/poll", "client us/poll");
  for (const bool tls : {false, true}) {
    std::vector<std::shared_ptr<grpc::Channel>> channels;
    for (int c = 0; c < options.channels; ++c) {
      channels.push_back(tls ? makeChannel(tcp_target, certs) : makeChannel(unix_target, {}));
    }
    for (const bool diffs : {true, false}) {
      // A short warm-up: connections and TLS handshakes are not what is measured.
      {
        HeartbeatLoad warm(channels, 1, diffs);
        warm.start();
        usleep(300'000);
        (void)warm.stop();
      }
      HeartbeatLoad load(channels, options.in_flight, diffs);
      rusage before{};
      getrusage(RUSAGE_SELF, &before);
      const double agent_before = vigied->cpuSeconds();
      load.start();
      usleep(static_cast<useconds_t>(options.seconds * 1e6));
      LoadResult result = load.stop();
      const double agent_cpu = vigied->cpuSeconds() - agent_before;
      rusage after{};
      getrusage(RUSAGE_SELF, &after);
      const double client_cpu = cpuSeconds(after) - cpuSeconds(before);
      if (result.answers == 0) {
        return Error{fmt::format("no answer over {}: {}", tls ? "TCP+mTLS" : "the unix socket",
                                 result.first_error)};
      }
      const double answers = static_cast<double>(result.answers);
      fmt::print(
          "{:<10} {:<11} {:>9.0f} {:>10.3f} {:>10.3f} {:>15.1f} {:>15.1f}{}\n",
          tls ? "tcp+mtls" : "unix", diffs ? "idle diff" : "full state", answers / result.seconds,
          static_cast<double>(percentile(result.latencies_ns, 50)) / 1e6,
          static_cast<double>(percentile(result.latencies_ns, 99)) / 1e6, agent_cpu * 1e6 / answers,
          client_cpu * 1e6 / answers,
          result.errors > 0 ? fmt::format("  ({} errors: {})", result.errors, result.first_error)
                            : "");
    }
  }
  fmt::print("\n(vigied CPU from /proc/PID/stat, 10 ms ticks; client CPU is this process)\n");
  vigied->stop();
  return Status::okStatus();
}

// ---------------------------------------------------------------------------------------------
// Part 2: restart latency under a poll storm

struct RestartSample {
  std::vector<int64_t> latencies_ns;
  LoadResult storm;
};

// One vigied with the crasher; `restarts` exit -> start latencies of exits after the poll storm
// (if any) is running.
Result<RestartSample> measureRestarts(const Options& options, const WorkDir& work,
                                      const BenchCertificates& certs, const std::string& tag,
                                      bool storm) {
  auto port = freePort();
  if (!port) {
    return port.error();
  }
  const std::string dir = work.file(tag);
  mkdir(dir.c_str(), 0700);
  // Plenty of runs: vigied restarts the crasher from its first second, before the storm is up;
  // only the exits after that count, and the driver stops once it has enough of them.
  const auto runs = static_cast<uint32_t>(options.restarts * 20 + 2000);
  auto record = RecordFile::create(dir + "/record.dat", runs, monoNs() + 600 * kNsPerSec);
  if (!record) {
    return record.error();
  }
  auto vigied =
      startServing(options, dir, vigiedConfig(options, certs, *port, dir + "/record.dat"));
  if (!vigied) {
    return vigied.error();
  }
  const std::string unix_target = "unix:" + vigied->socket();
  const std::string tcp_target = fmt::format("127.0.0.1:{}", *port);
  std::unique_ptr<HeartbeatLoad> load;
  if (storm) {
    std::vector<std::shared_ptr<grpc::Channel>> channels;
    for (int c = 0; c < options.channels; ++c) {
      channels.push_back(c % 2 == 0 ? makeChannel(unix_target, {})
                                    : makeChannel(tcp_target, certs));
    }
    load = std::make_unique<HeartbeatLoad>(channels, options.in_flight, true);
    load->start();
    usleep(500'000);  // connected and at full speed before anything is counted
  }
  const uint64_t first = record->started();
  const uint64_t wanted = first + static_cast<uint64_t>(options.restarts) + 1;
  if (wanted >= runs) {
    return Error{fmt::format("{} restarts happened before the measurement began", first)};
  }
  // Restart i's latency needs instance i+1's start: wait for the start of instance wanted-1.
  const int64_t deadline = monoNs() + 120 * kNsPerSec;
  while (record->started() < wanted || record->startNs(wanted - 1) == 0) {
    if (monoNs() > deadline || !vigied->running()) {
      return Error{fmt::format("only {} of {} restarts after 120 s:\n{}", record->started() - first,
                               options.restarts, vigied->logTail())};
    }
    usleep(1000);
  }
  RestartSample sample;
  if (load) {
    sample.storm = load->stop();
  }
  vigied->stop();
  for (uint64_t i = first; i + 1 < wanted; ++i) {
    const int64_t exit_ns = record->exitNs(i);
    const int64_t next_ns = record->startNs(i + 1);
    if (exit_ns > 0 && next_ns > exit_ns) {
      sample.latencies_ns.push_back(next_ns - exit_ns);
    }
  }
  if (sample.latencies_ns.empty()) {
    return Error{"no usable restart"};
  }
  return sample;
}

Status measureRestartCost(const Options& options, const WorkDir& work,
                          const BenchCertificates& certs) {
  fmt::print(
      "\n## Restart latency of a crash loop, quiet and under a poll storm ({} restarts "
      "each, {} repeats; storm: {} connections, half unix half TCP+mTLS, x {} in flight, "
      "idle-diff polls)\n\n",
      options.restarts, options.repeat, options.channels, options.in_flight);
  fmt::print("{:<6} {:<7} {:>5} {:>10} {:>10} {:>10} {:>9}\n", "run", "column", "n", "min (ms)",
             "p50 (ms)", "p99 (ms)", "polls/s");
  std::vector<int64_t> quiet_medians;
  std::vector<int64_t> storm_medians;
  for (int r = 1; r <= options.repeat; ++r) {
    for (const bool storm : {false, true}) {
      auto sample = measureRestarts(
          options, work, certs, fmt::format("restart-{}-{}", r, storm ? "storm" : "quiet"), storm);
      if (!sample) {
        return sample.error();
      }
      const int64_t median = percentile(sample->latencies_ns, 50);
      (storm ? storm_medians : quiet_medians).push_back(median);
      const double qps = storm && sample->storm.seconds > 0
                             ? static_cast<double>(sample->storm.answers) / sample->storm.seconds
                             : 0;
      fmt::print("{:<6} {:<7} {:>5} {:>10.3f} {:>10.3f} {:>10.3f} {:>9}\n",
                 fmt::format("{}/{}", r, options.repeat), storm ? "storm" : "quiet",
                 sample->latencies_ns.size(),
                 static_cast<double>(percentile(sample->latencies_ns, 0)) / 1e6,
                 static_cast<double>(median) / 1e6,
                 static_cast<double>(percentile(sample->latencies_ns, 99)) / 1e6,
                 storm ? fmt::format("{:.0f}", qps) : "-");
    }
  }
  const int64_t quiet = percentile(quiet_medians, 50);
  const int64_t stormy = percentile(storm_medians, 50);
  fmt::print(
      "\nsummary: median of per-repeat medians: quiet {:.3f} ms, under the storm {:.3f} ms, "
      "ratio {:.2f}\n",
      static_cast<double>(quiet) / 1e6, static_cast<double>(stormy) / 1e6,
      quiet > 0 ? static_cast<double>(stormy) / static_cast<double>(quiet) : 0.0);
  return Status::okStatus();
}

int runBenchmark(const Options& options) {
  for (const std::string& program : {options.vigied, options.crasher}) {
    if (access(program.c_str(), X_OK) != 0) {
      fmt::print(stderr, "heartbeat_qps: {} is not executable; build first\n", program);
      return 1;
    }
  }
  auto work = WorkDir::create("heartbeat_qps", options.keep_work_dir);
  if (!work) {
    fmt::print(stderr, "heartbeat_qps: {}\n", work.error().message);
    return 1;
  }
  auto certs = makeCertificates(work->path(), kClientIdentity);
  if (!certs) {
    fmt::print(stderr, "heartbeat_qps: {}\n", certs.error().message);
    return 1;
  }
  fmt::print("heartbeat_qps: vigied {}\n  load average {}\n", options.vigied, loadAverage());
  if (Status qps = measureQps(options, *work, *certs); !qps) {
    fmt::print(stderr, "heartbeat_qps: polls per second: {}\n", qps.error().message);
    return 1;
  }
  if (Status restarts = measureRestartCost(options, *work, *certs); !restarts) {
    fmt::print(stderr, "heartbeat_qps: restart latency: {}\n", restarts.error().message);
    return 1;
  }
  fmt::print("  load average {}\n", loadAverage());
  return 0;
}

}  // namespace
}  // namespace vigie::bench

int main(int argc, char** argv) {
  vigie::bench::Options options;
  options.vigied = vigie::bench::besideSelf("vigied");
  options.crasher = vigie::bench::besideSelf("bench_crasher");
  CLI::App app{
      "Measures Heartbeat polls per second served by one vigied (unix socket, TCP+mTLS) and "
      "the restart latency of a crash loop while it is polled at full speed."};
  app.add_option("--vigied", options.vigied, "vigied binary (default: next to this one)");
  app.add_option("--crasher", options.crasher, "bench_crasher (default: next to this one)");
  app.add_option("--units", options.units, "idle units besides the crasher")
      ->check(CLI::Range(1, 1000));
  auto* seconds = app.add_option("--seconds", options.seconds, "length of each QPS measurement")
                      ->check(CLI::Range(0.5, 600.0));
  app.add_option("--channels", options.channels, "concurrent connections")
      ->check(CLI::Range(1, 256));
  app.add_option("--in-flight", options.in_flight, "calls in flight per connection")
      ->check(CLI::Range(1, 256));
  auto* restarts =
      app.add_option("--restarts", options.restarts, "restarts measured per column and repeat")
          ->check(CLI::Range(10, 100000));
  auto* repeat = app.add_option("--repeat", options.repeat, "repeats of quiet + storm")
                     ->check(CLI::Range(1, 50));
  app.add_flag("--keep-work-dir", options.keep_work_dir, "keep the work files");
  app.add_flag("--quick", options.quick, "smoke run: 1 s per QPS figure, 50 restarts, 1 repeat");
  CLI11_PARSE(app, argc, argv);
  if (options.quick) {
    options.seconds = seconds->count() > 0 ? options.seconds : 1;
    options.restarts = restarts->count() > 0 ? options.restarts : 50;
    options.repeat = repeat->count() > 0 ? options.repeat : 1;
  }
  signal(SIGPIPE, SIG_IGN);
  return vigie::bench::runBenchmark(options);
}
