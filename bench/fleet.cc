// fleet_bench: `vigiectl fleet`'s poller against 200 agents on loopback. The agents are fakes
// served by one child process through the generated service (v1::Agent::CallbackService), each
// backed by its own SnapshotPublisher and listening on its own port (TCP+mTLS, or a unix socket
// with --transport unix); a thread there changes random units at a steady rate.
//
// Measured: the poller's CPU time per poll round (getrusage of this process, which runs only the
// poller), the wall time of a round, and staleness: for every change made on an agent, the time
// until the poller holds a state at least that new (change times and poll times are both
// CLOCK_MONOTONIC, on one machine). Then the real `vigiectl fleet --count N` against the same
// agents, its CPU from wait4. A benchmark: exit 0 whatever the figures, 1 when a run failed.
#include <fcntl.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "agent/api/heartbeat.h"
#include "agent/api/snapshot_publisher.h"
#include "agent/cli/fleet_poller.h"
#include "api_bench_util.h"

extern char** environ;  // NOLINT(readability-identifier-naming): POSIX name.

namespace vigie::bench {
namespace {

using cli::FleetChannelFactory;
using cli::FleetNode;
using cli::FleetPoller;
using cli::FleetPollerOptions;
using cli::FleetTarget;

struct Options {
  int agents = 200;
  int units = 5;
  double interval_s = 2.0;  // vigiectl fleet's default
  int rounds = 15;
  double changes_per_second = 20;
  std::string transport = "tls";
  std::string vigiectl;
  bool keep_work_dir = false;
  bool quick = false;

  Duration interval() const {
    return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(interval_s));
  }
};

// ---------------------------------------------------------------------------------------------
// The agents (child process)

class CannedUsage final : public UsageSource {
 public:
  UsageSample sample() override {
    UsageSample usage;
    usage.load = LoadSample{0.42, 0.37, 0.30};
    usage.memory = MemorySample{uint64_t{8} << 30, uint64_t{5} << 30, 0, 0};
    return usage;
  }
};

// One fake agent: the real heartbeat code over its own publisher, as vigied answers.
class FakeAgent final : public v1::Agent::CallbackService {
 public:
  FakeAgent(int index, int units) : publisher_(newAgentEpoch()), index_(index) {
    for (int k = 0; k < units; ++k) {
      UnitView view;
      view.name = fmt::format("unit-{}", k);
      view.state = UnitState::kRunning;
      view.pid = 10000 + k;
      InstanceView instance;
      instance.id = 1;
      instance.pid = view.pid;
      instance.started = std::chrono::system_clock::now();
      view.instances.push_back(instance);
      view.config.exec = {"/usr/bin/service", "--port", std::to_string(8000 + k)};
      views_.push_back(view);
    }
    publish();
  }

  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* context,
                                      const v1::HeartbeatRequest* request,
                                      v1::HeartbeatResponse* response) override {
    *response = buildHeartbeat(*publisher_.current(), *request, &usage_);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* GetNode(grpc::CallbackServerContext* context, const v1::GetNodeRequest*,
                                    v1::GetNodeResponse* response) override {
    v1::NodeInfo* node = response->mutable_node();
    node->set_hostname(fmt::format("fake-{:03}", index_));
    node->set_agent_version("fleet-bench");
    node->set_agent_epoch(publisher_.current()->epoch);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  // The mutator thread only (it plays the agent's loop): unit k crashed and was restarted.
  uint64_t crashAndRestart(int k, bool backing_off) {
    UnitView& view = views_[static_cast<size_t>(k)];
    InstanceView& last = view.instances.back();
    ExitView exit;
    exit.kind = ExitView::Kind::kDumped;
    exit.signal = SIGSEGV;
    exit.description = "signal SIGSEGV (core dumped)";
    exit.at = std::chrono::system_clock::now();
    last.exit = exit;
    InstanceView next;
    next.id = last.id + 1;
    next.pid = last.pid + 1;
    next.started = exit.at;
    if (view.instances.size() >= 2) {
      view.instances.erase(view.instances.begin());
    }
    view.instances.push_back(next);
    view.pid = next.pid;
    view.state = backing_off ? UnitState::kBackingOff : UnitState::kRunning;
    ++view.total_restarts;
    publish();
    return view.total_restarts;
  }

 private:
  void publish() { publisher_.publish(views_, ClockMapping{MonoTime{}, WallTime{}}); }

  SnapshotPublisher publisher_;
  CannedUsage usage_;
  int index_;
  std::vector<UnitView> views_;
};

struct Change {
  int agent = 0;
  int unit = 0;
  uint64_t restarts = 0;
  int64_t at_ns = 0;
};

// Serves the agents until `control_fd` reaches EOF, changing a random unit of a random agent
// every 1/changes_per_second. Writes the targets file, then one byte to `ready_fd`; at the end,
// every change to changes.txt. Returns the exit code of the child.
int runAgents(const Options& options, const std::string& work,
              const std::optional<BenchCertificates>& certs, int ready_fd, int control_fd) {
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (certs) {
    grpc::SslServerCredentialsOptions tls(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    tls.pem_root_certs = readWholeFile(certs->ca);
    tls.pem_key_cert_pairs.push_back(
        {readWholeFile(certs->server_key), readWholeFile(certs->server_cert)});
    credentials = grpc::SslServerCredentials(tls);
  }
  std::vector<std::unique_ptr<FakeAgent>> agents;
  std::vector<std::unique_ptr<grpc::Server>> servers;
  std::string targets;
  for (int i = 0; i < options.agents; ++i) {
    agents.push_back(std::make_unique<FakeAgent>(i, options.units));
    grpc::ServerBuilder builder;
    int port = 0;
    const std::string socket = fmt::format("{}/agent-{:03}.sock", work, i);
    if (certs) {
      builder.AddListeningPort("127.0.0.1:0", credentials, &port);
    } else {
      builder.AddListeningPort("unix:" + socket, credentials);
    }
    builder.RegisterService(agents.back().get());
    servers.push_back(builder.BuildAndStart());
    if (!servers.back() || (certs && port == 0)) {
      fmt::print(stderr, "fleet_bench: agent {} could not listen\n", i);
      return 1;
    }
    targets += certs ? fmt::format("127.0.0.1:{} agent-{:03}\n", port, i)
                     : fmt::format("unix:{} agent-{:03}\n", socket, i);
  }
  if (Status written = writeWholeFile(work + "/targets.txt", targets); !written) {
    fmt::print(stderr, "fleet_bench: {}\n", written.error().message);
    return 1;
  }
  const char ready = 'r';
  if (write(ready_fd, &ready, 1) != 1) {
    return 1;
  }
  close(ready_fd);

  std::mt19937_64 random(12345);
  std::vector<Change> changes;
  const auto period_ns = static_cast<int64_t>(1e9 / options.changes_per_second);
  int64_t next_ns = monoNs() + period_ns;
  while (true) {
    const int64_t wait_ms = std::max<int64_t>(0, (next_ns - monoNs()) / 1'000'000);
    pollfd control{control_fd, POLLIN, 0};
    const int ready_count = poll(&control, 1, static_cast<int>(wait_ms));
    if (ready_count > 0) {
      break;  // EOF (or anything) on the control pipe: the parent is done
    }
    if (monoNs() < next_ns) {
      continue;
    }
    next_ns += period_ns;
    Change change;
    change.agent = static_cast<int>(random() % static_cast<uint64_t>(options.agents));
    change.unit = static_cast<int>(random() % static_cast<uint64_t>(options.units));
    const bool backing_off = random() % 5 == 0;
    change.at_ns = monoNs();
    change.restarts =
        agents[static_cast<size_t>(change.agent)]->crashAndRestart(change.unit, backing_off);
    changes.push_back(change);
  }
  std::string log;
  for (const Change& change : changes) {
    log += fmt::format("{} {} {} {}\n", change.agent, change.unit, change.restarts, change.at_ns);
  }
  (void)writeWholeFile(work + "/changes.txt", log);
  for (auto& server : servers) {
    server->Shutdown(std::chrono::system_clock::now());
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// The poller (this process)

struct Observation {
  int agent = 0;
  int unit = 0;
  uint64_t restarts = 0;
  int64_t at_ns = 0;
};

int threadsOf(pid_t pid) {
  std::istringstream in(readWholeFile(fmt::format("/proc/{}/status", pid)));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Threads:", 0) == 0) {
      return std::stoi(line.substr(8));
    }
  }
  return 0;
}

std::vector<Change> readChanges(const std::string& path) {
  std::vector<Change> changes;
  std::istringstream in(readWholeFile(path));
  Change change;
  while (in >> change.agent >> change.unit >> change.restarts >> change.at_ns) {
    changes.push_back(change);
  }
  return changes;
}

double ms(int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

// The real CLI against the same agents: its whole CPU time (start-up and first full states
// included) from wait4.
void runVigiectl(const Options& options, const WorkDir& work,
                 const std::optional<BenchCertificates>& certs) {
  if (access(options.vigiectl.c_str(), X_OK) != 0) {
    fmt::print("vigiectl fleet: skipped ({} not found; build the vigiectl target)\n",
               options.vigiectl);
    return;
  }
  std::vector<std::string> args = {
      options.vigiectl,
      "fleet",
      "--targets",
      work.file("targets.txt"),
      "--interval",
      fmt::format("{}ms", static_cast<int64_t>(options.interval_s * 1000)),
      "--count",
      std::to_string(options.rounds),
      "-o",
      "json"};
  if (certs) {
    args.insert(args.end(), {"--tls-cert", certs->client_cert, "--tls-key", certs->client_key,
                             "--tls-ca", certs->ca});
  }
  std::vector<char*> argv;
  for (std::string& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, work.file("vigiectl.out").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int64_t started = monoNs();
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    fmt::print("vigiectl fleet: cannot start {}: {}\n", options.vigiectl, strerror(rc));
    return;
  }
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      return;
    }
  }
  const double wall = ms(monoNs() - started) / 1000;
  const double cpu = cpuSeconds(usage);
  fmt::print(
      "vigiectl fleet --count {} -o json: exit {}, {:.1f} s wall, CPU {:.0f} ms in all = {:.2f} ms "
      "per round (start-up, TLS handshakes and first full states included)\n",
      options.rounds, WIFEXITED(status) ? WEXITSTATUS(status) : -1, wall, cpu * 1000,
      cpu * 1000 / options.rounds);
}

int runBenchmark(const Options& options) {
  auto work = WorkDir::create("fleet_bench", options.keep_work_dir);
  if (!work) {
    fmt::print(stderr, "fleet_bench: {}\n", work.error().message);
    return 1;
  }
  std::optional<BenchCertificates> certs;
  if (options.transport == "tls") {
    auto made = makeCertificates(work->path(), "fleet-poller");
    if (!made) {
      fmt::print(stderr, "fleet_bench: {}\n", made.error().message);
      return 1;
    }
    certs = *made;
  }

  // Fork before this process touches gRPC: gRPC does not survive a fork.
  int ready_pipe[2];
  int control_pipe[2];
  if (pipe2(ready_pipe, O_CLOEXEC) != 0 || pipe2(control_pipe, O_CLOEXEC) != 0) {
    fmt::print(stderr, "fleet_bench: pipe: {}\n", strerror(errno));
    return 1;
  }
  const pid_t parent = getpid();
  const pid_t child = fork();
  if (child < 0) {
    fmt::print(stderr, "fleet_bench: fork: {}\n", strerror(errno));
    return 1;
  }
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) {
      _exit(1);
    }
    close(ready_pipe[0]);
    close(control_pipe[1]);
    _exit(runAgents(options, work->path(), certs, ready_pipe[1], control_pipe[0]));
  }
  close(ready_pipe[1]);
  close(control_pipe[0]);
  auto stopAgents = [&] {
    if (control_pipe[1] >= 0) {
      close(control_pipe[1]);
      control_pipe[1] = -1;
    }
    for (int i = 0; i < 3000; ++i) {
      if (waitpid(child, nullptr, WNOHANG) == child) {
        return;
      }
      usleep(10'000);
    }
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
  };

  pollfd ready{ready_pipe[0], POLLIN, 0};
  char byte = 0;
  if (poll(&ready, 1, 120'000) != 1 || read(ready_pipe[0], &byte, 1) != 1) {
    fmt::print(stderr, "fleet_bench: the agents did not start within 120 s\n");
    stopAgents();
    return 1;
  }
  close(ready_pipe[0]);

  const auto parsed = cli::loadFleetTargets(work->file("targets.txt"));
  if (!parsed.ok()) {
    fmt::print(stderr, "fleet_bench: {}\n", parsed.errors.front());
    stopAgents();
    return 1;
  }
  cli::FleetTlsFiles tls;
  if (certs) {
    tls = {certs->client_cert, certs->client_key, certs->ca, ""};
  }
  auto channels = FleetChannelFactory::create(parsed.targets, tls, options.interval());
  if (!channels) {
    fmt::print(stderr, "fleet_bench: {}\n", channels.error().message);
    stopAgents();
    return 1;
  }

  fmt::print(
      "fleet_bench: {} agents x {} units over {} (one child process, one port each, {} threads "
      "there), poll every {:.0f} ms, {} rounds, {} changes/s across the fleet\n  load average "
      "{}\n",
      options.agents, options.units, certs ? "TCP+mTLS on 127.0.0.1" : "unix sockets",
      threadsOf(child), options.interval_s * 1000, options.rounds, options.changes_per_second,
      loadAverage());

  std::vector<Observation> observations;
  uint64_t answers = 0;
  int failed = 0;
  {
    FleetPollerOptions poller_options;
    poller_options.call_timeout = options.interval() / 2;
    FleetPoller poller(parsed.targets, *channels, poller_options);
    const FleetNode* first = poller.nodes().data();
    poller.setHeartbeatHook([&](const FleetNode& node, const v1::HeartbeatResponse& response,
                                MonoTime received) {
      ++answers;
      const auto at_ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(received.time_since_epoch()).count();
      for (const v1::Unit& unit : response.units()) {
        observations.push_back({static_cast<int>(&node - first), std::stoi(unit.name().substr(5)),
                                unit.total_restarts(), at_ns});
      }
    });

    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    int64_t started = monoNs();
    poller.pollRound();
    poller.finishCalls();
    rusage after{};
    getrusage(RUSAGE_SELF, &after);
    fmt::print(
        "first round (connections, TLS handshakes, full states, GetNode): {:.1f} ms wall, "
        "CPU {:.1f} ms\n",
        ms(monoNs() - started), (cpuSeconds(after) - cpuSeconds(before)) * 1000);

    const int64_t measure_from = monoNs();
    const uint64_t answers_before = answers;
    std::vector<int64_t> round_walls;
    getrusage(RUSAGE_SELF, &before);
    MonoTime next = std::chrono::steady_clock::now();
    for (int r = 0; r < options.rounds; ++r) {
      next += options.interval();
      poller.waitUntil(next);
      started = monoNs();
      poller.pollRound();
      round_walls.push_back(monoNs() - started);
    }
    getrusage(RUSAGE_SELF, &after);
    const int64_t last_round_start = started;
    const double cpu_ms = (cpuSeconds(after) - cpuSeconds(before)) * 1000;
    for (const FleetNode& node : poller.nodes()) {
      failed += node.status() == cli::FleetNodeStatus::kUp ? 0 : 1;
    }
    const uint64_t polls = static_cast<uint64_t>(options.rounds) * options.agents;
    const uint64_t missed = polls - std::min(polls, answers - answers_before);
    fmt::print(
        "poll rounds: {} x {} agents; round wall p50 {:.2f} ms, p99 {:.2f} ms; poller CPU {:.2f} "
        "ms per round = {:.1f} us per agent polled; polls missed (deadline {:.0f} ms): {}; nodes "
        "not up at the end: {}\n",
        options.rounds, options.agents, ms(percentile(round_walls, 50)),
        ms(percentile(round_walls, 99)), cpu_ms / options.rounds,
        cpu_ms * 1000 / options.rounds / options.agents, options.interval_s * 500, missed, failed);

    runVigiectl(options, *work, certs);
    stopAgents();

    // Staleness: each change made after the first round and before the last round started,
    // against the first poll whose answer held that unit at least as new.
    std::vector<int64_t> staleness;
    size_t unseen = 0;
    for (const Change& change : readChanges(work->file("changes.txt"))) {
      if (change.at_ns < measure_from || change.at_ns >= last_round_start) {
        continue;
      }
      std::optional<int64_t> seen;
      for (const Observation& o : observations) {
        if (o.agent == change.agent && o.unit == change.unit && o.restarts >= change.restarts &&
            o.at_ns >= change.at_ns) {
          seen = o.at_ns - change.at_ns;
          break;
        }
      }
      if (seen) {
        staleness.push_back(*seen);
      } else {
        ++unseen;
      }
    }
    fmt::print(
        "staleness (change on an agent -> poller has it): n {}, p50 {:.0f} ms, p99 {:.0f} ms, max "
        "{:.0f} ms = {:.2f} x the interval; changes never seen: {}\n",
        staleness.size(), ms(percentile(staleness, 50)), ms(percentile(staleness, 99)),
        ms(percentile(staleness, 100)), ms(percentile(staleness, 99)) / (options.interval_s * 1000),
        unseen);
    if (staleness.empty() || unseen > 0) {
      failed += 1;
    }
  }
  fmt::print("  load average {}\n", loadAverage());
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace vigie::bench

int main(int argc, char** argv) {
  vigie::bench::Options options;
  options.vigiectl = vigie::bench::besideSelf("vigiectl");
  CLI::App app{
      "Measures vigiectl fleet's poller against many fake agents on loopback: CPU per poll "
      "round and staleness."};
  app.add_option("--agents", options.agents, "fake agents")->check(CLI::Range(1, 5000));
  app.add_option("--units", options.units, "units per agent")->check(CLI::Range(1, 1000));
  app.add_option("--interval", options.interval_s, "poll interval in seconds")
      ->check(CLI::Range(0.05, 60.0));
  auto* rounds = app.add_option("--rounds", options.rounds, "measured poll rounds")
                     ->check(CLI::Range(1, 10000));
  app.add_option("--changes", options.changes_per_second,
                 "unit changes per second, across the fleet")
      ->check(CLI::Range(0.1, 10000.0));
  app.add_option("--transport", options.transport, "tls (TCP+mTLS on 127.0.0.1) or unix")
      ->check(CLI::IsMember({"tls", "unix"}));
  app.add_option("--vigiectl", options.vigiectl, "vigiectl binary (default: next to this one)");
  app.add_flag("--keep-work-dir", options.keep_work_dir, "keep the work files");
  app.add_flag("--quick", options.quick, "smoke run: 5 rounds");
  CLI11_PARSE(app, argc, argv);
  if (options.quick && rounds->count() == 0) {
    options.rounds = 5;
  }
  signal(SIGPIPE, SIG_IGN);
  return vigie::bench::runBenchmark(options);
}
