// container_restart (root): crash -> next instance running for a CONTAINER unit under vigied,
// against the same crasher as a process unit and against runc's own crash loop.
//
// The workload is bench_crasher_static (crasher.c linked static) in a busybox root filesystem
// built in a private work dir. Its record file (record.h) is in `<work>/records`, bind-mounted
// at /bench in the container, so both columns map the same kind of file and the driver reads
// them from the host. The timestamps are CLOCK_MONOTONIC: vigied's containers get no time
// namespace, so the container's clock is the host's and the spans cross the boundary as they are.
//
// Latency i = start_ns[i+1] - exit_ns[i]: the crasher's _exit(1), vigied's reap and restart
// decision, then for the container `runc run --detach` (create, start) up to the first statement
// of the new instance's main; for the process unit fork/exec up to the same statement.
//
// The columns run in alternating rounds (one vigied per round, one unit in it), so that both see
// the same load on this shared machine. After them, runc's own crash loop without vigied, on a
// copy of the bundle vigied wrote (runRuntimeAlone): the same span, so that the figures say what
// vigied adds beyond the runtime. A benchmark: exit 0 whatever the figures are (and when not
// root or without runc), non-zero only when a measurement could not be made.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "api_bench_util.h"
#include "record.h"
#include "record_file.h"
#include "vigie/result.h"
#include "vigied_child.h"

extern char** environ;  // NOLINT(readability-identifier-naming): POSIX name.

namespace {

namespace fs = std::filesystem;
using vigie::Error;
using vigie::Result;
using vigie::Status;
using vigie::bench::besideSelf;
using vigie::bench::loadAverage;
using vigie::bench::logTail;
using vigie::bench::monoNs;
using vigie::bench::percentile;
using vigie::bench::RecordFile;
using vigie::bench::runsBinary;
using vigie::bench::sleepNs;
using vigie::bench::vigiedArgs;
using vigie::bench::VigiedChild;
using vigie::bench::VigiedChildOptions;
using vigie::bench::WorkDir;
using vigie::bench::yamlQuote;

constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kNsPerSec = 1'000'000'000;
constexpr int64_t kPollNs = kNsPerMs;                // record file polling while a round runs.
constexpr int64_t kStartupNs = 20 * kNsPerSec;       // vigied must start the workload within this.
constexpr int64_t kStopGraceNs = 30 * kNsPerSec;     // vigied waits for its containers' deletion.
constexpr int64_t kCommandBoundNs = 30 * kNsPerSec;  // one runc command.
constexpr const char* kUnit = "crasher";

volatile sig_atomic_t g_interrupted = 0;

void onSignal(int /*signal_number*/) {
  g_interrupted = 1;
}

void installSignalHandlers() {
  struct sigaction action {};
  action.sa_handler = onSignal;
  sigemptyset(&action.sa_mask);
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
    sigaction(signal_number, &action, nullptr);
  }
}

double toMs(int64_t ns) {
  return static_cast<double>(ns) / static_cast<double>(kNsPerMs);
}

int64_t medianOf(const std::vector<int64_t>& values) {
  return percentile(values, 50);
}

struct Options {
  std::string vigied;
  std::string crasher;
  std::string runtime;  // empty: the first runc in the runtime directories vigied searches.
  int restarts = 100;   // per column, split over the rounds.
  int rounds = 5;
  int runc_runs = 0;  // 0: as many as the restarts.
  bool quick = false;
  bool keep = false;
};

enum class Column { kContainer, kProcess };

const char* columnName(Column column) {
  return column == Column::kContainer ? "container" : "process";
}

// Starts argv with stdin /dev/null and its output appended to `log`.
Result<pid_t> spawnCommand(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  for (const std::string& arg : args) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return Error::fromErrno("posix_spawn " + args[0], rc);
  }
  return pid;
}

// Waits for a child (or a process re-parented to us, the subreaper) to end, through a pidfd so
// that the wake-up is immediate and the wait bounded. Returns its wait status; `reaped_ns` gets
// the time it was reaped. SIGKILL when the bound passes.
Result<int> waitBounded(pid_t pid, int64_t bound_ns, int64_t* reaped_ns = nullptr) {
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    return Error::fromErrno(fmt::format("pidfd_open {}", pid));
  }
  pollfd entry{pidfd, POLLIN, 0};
  int ready = 0;
  for (const int64_t deadline = monoNs() + bound_ns; ready == 0;) {
    const int64_t left_ms = (deadline - monoNs()) / kNsPerMs;
    if (left_ms <= 0) {
      break;
    }
    ready = poll(&entry, 1, static_cast<int>(left_ms));
    if (ready < 0 && errno == EINTR) {
      ready = g_interrupted != 0 ? -1 : 0;
    }
  }
  close(pidfd);
  int status = 0;
  if (ready <= 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return Error{fmt::format("pid {} did not end within {} s", pid, bound_ns / kNsPerSec)};
  }
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return Error::fromErrno(fmt::format("waitpid {}", pid));
    }
  }
  if (reaped_ns != nullptr) {
    *reaped_ns = monoNs();
  }
  return status;
}

// Runs argv to completion (bounded): its wait status.
Result<int> runCommand(const std::vector<std::string>& args, const std::string& log,
                       int64_t* exited_ns = nullptr) {
  auto pid = spawnCommand(args, log);
  if (!pid) {
    return pid.error();
  }
  return waitBounded(*pid, kCommandBoundNs, exited_ns);
}

// The ids runc knows under `root` (`runc --root ROOT list -q`).
std::vector<std::string> runcList(const std::string& runtime, const std::string& root) {
  std::vector<std::string> ids;
  const std::string command = fmt::format("'{}' --root '{}' list -q 2>/dev/null", runtime, root);
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return ids;
  }
  char line[512];
  while (fgets(line, sizeof(line), pipe) != nullptr) {
    std::string id(line);
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) {
      id.pop_back();
    }
    if (!id.empty()) {
      ids.push_back(id);
    }
  }
  pclose(pipe);
  return ids;
}

// Deletes whatever runc still has under `root`; warns when there was something.
void checkNoContainers(const std::string& runtime, const std::string& root, const std::string& log,
                       const char* what) {
  if (!fs::exists(root)) {
    return;
  }
  const std::vector<std::string> left = runcList(runtime, root);
  if (left.empty()) {
    return;
  }
  fmt::print(stderr, "warning: {}: {} container(s) left under {} after it ended:", what,
             left.size(), root);
  for (const std::string& id : left) {
    fmt::print(stderr, " {}", id);
    (void)runCommand({runtime, "--root", root, "delete", "--force", id}, log);
  }
  fmt::print(stderr, " (deleted now)\n");
}

// vigied for one round. --cgroups off: a killed run must not leave a `vigie` cgroup parent
// behind, and the column without containers has none. One log per column, appended to.
Result<VigiedChild> startVigied(const std::string& vigied, const std::string& config,
                                const std::string& state_dir, const std::string& log) {
  VigiedChildOptions options;
  options.args = vigiedArgs(vigied, config, state_dir, state_dir + "/vigie.sock");
  options.args.insert(options.args.end(), {"--cgroups", "off", "--metrics-listen", "127.0.0.1:0",
                                           "--log-target", "stderr"});
  options.log = log;
  options.append_log = true;
  options.stop_grace_ns = kStopGraceNs;
  return VigiedChild::start(options);
}

// SIGTERM must end it cleanly (exit status 0).
Status stopVigied(VigiedChild& daemon) {
  auto status = daemon.stop();
  if (!status) {
    return status.error();
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return Error{fmt::format("vigied ended with wait status {:#x} on SIGTERM", *status)};
  }
  return Status::okStatus();
}

// The work dir's layout and the runtime in use.
struct Setup {
  std::string runtime;
  std::string rootfs;   // <work>/rootfs, with /bin/crasher
  std::string records;  // <work>/records, /bench in the container
  std::string crasher;  // <rootfs>/bin/crasher: the process unit runs the same file
  std::string bundle;   // <work>/bundle: a copy of vigied's config.json for the runtime alone
  const WorkDir* work = nullptr;

  std::string stateDir(Column column) const {
    return work->file(fmt::format("state-{}", columnName(column)));
  }
  std::string runtimeRoot(Column column) const {
    return stateDir(column) + "/runtime/" + fs::path(runtime).filename().string();
  }
};

// A busybox-static root filesystem (busybox and links for a few applets), the static crasher
// as /bin/crasher, and /bench for the records' bind mount.
Status makeRootfs(const Setup& setup, const std::string& crasher) {
  std::error_code ec;
  for (const char* dir : {"/bin", "/tmp", "/bench"}) {
    fs::create_directories(setup.rootfs + dir, ec);
    if (ec) {
      return Error{fmt::format("mkdir {}{}: {}", setup.rootfs, dir, ec.message())};
    }
  }
  fs::copy_file("/bin/busybox", setup.rootfs + "/bin/busybox", ec);
  if (!ec) {
    for (const char* applet : {"sh", "sleep", "echo", "cat", "ls", "kill"}) {
      fs::create_symlink("busybox", setup.rootfs + "/bin/" + applet, ec);
      if (ec) {
        break;
      }
    }
  }
  if (!ec) {
    fs::copy_file(crasher, setup.crasher, ec);
  }
  if (ec) {
    return Error{"building the root filesystem: " + ec.message()};
  }
  fs::create_directories(setup.records, ec);
  if (ec) {
    return Error{fmt::format("mkdir {}: {}", setup.records, ec.message())};
  }
  return Status::okStatus();
}

std::string recordName(Column column, int round) {
  return fmt::format("{}-{}.dat", columnName(column), round);
}

// One unit, restarts immediate (no backoff, no start limit), no core. SIGKILL as the stop
// signal: the container's crasher is PID 1 of its namespace, which ignores SIGTERM from the host
// without a handler, and the idle last instance would make every stop wait out stop.timeout.
std::string vigiedConfig(const Setup& setup, Column column, int round) {
  std::string out = fmt::format(
      "workloads:\n"
      "  - name: {}\n"
      "    core: false\n"
      "    stop: {{signal: SIGKILL}}\n"
      "    restart:\n"
      "      policy: always\n"
      "      backoff: {{initial: 0s, max: 0s}}\n"
      "      limit: {{burst: 0}}\n",
      kUnit);
  if (column == Column::kContainer) {
    out += fmt::format(
        "    container:\n"
        "      rootfs: {}\n"
        "      runtime: {}\n"
        "      args: [/bin/crasher, {}]\n"
        "      mounts: [{{source: {}, destination: /bench}}]\n",
        yamlQuote(setup.rootfs), yamlQuote(setup.runtime),
        yamlQuote("/bench/" + recordName(column, round)), yamlQuote(setup.records));
  } else {
    out += fmt::format("    exec: [{}, {}]\n", yamlQuote(setup.crasher),
                       yamlQuote(setup.records + "/" + recordName(column, round)));
  }
  return out;
}

// Copies the config.json vigied wrote for the container unit into <work>/bundle, pointed at
// the runtime alone's record file (runc.dat).
Status copyBundle(const Setup& setup, int round) {
  const std::string written =
      setup.stateDir(Column::kContainer) + "/containers/" + kUnit + "/config.json";
  std::string json = vigie::bench::readWholeFile(written);
  const std::string from = "\"/bench/" + recordName(Column::kContainer, round) + "\"";
  const size_t at = json.find(from);
  if (at == std::string::npos) {
    return Error{fmt::format("{}: no {} in it", written, from)};
  }
  json.replace(at, from.size(), "\"/bench/runc.dat\"");
  std::error_code ec;
  fs::create_directories(setup.bundle, ec);
  return vigie::bench::writeWholeFile(setup.bundle + "/config.json", json);
}

// One round of one column: vigied supervises the unit until `restarts` + 1 instances started.
Result<std::vector<int64_t>> runRound(const Setup& setup, const std::string& vigied, Column column,
                                      int round, int restarts) {
  const WorkDir& work = *setup.work;
  const std::string tag = fmt::format("{}-{}", columnName(column), round);
  const std::string log = work.file(fmt::format("vigied-{}.log", columnName(column)));
  const auto runs = static_cast<uint32_t>(restarts);
  const int64_t bound_ns = 30 * kNsPerSec + int64_t{restarts} * 500 * kNsPerMs;
  auto record = RecordFile::create(setup.records + "/" + recordName(column, round), runs,
                                   monoNs() + bound_ns + 60 * kNsPerSec);
  if (!record) {
    return record.error();
  }
  const std::string config = work.file(tag + ".yaml");
  if (Status written = vigie::bench::writeWholeFile(config, vigiedConfig(setup, column, round));
      !written) {
    return written.error();
  }
  std::error_code ec;
  fs::create_directories(setup.stateDir(column), ec);

  auto daemon = startVigied(vigied, config, setup.stateDir(column), log);
  if (!daemon) {
    return daemon.error();
  }
  const int64_t started_at = monoNs();
  std::optional<Error> failure;
  while (!record->hasStarted(runs)) {
    const int64_t now = monoNs();
    if (daemon->exited().has_value()) {
      failure = Error{
          fmt::format("vigied exited early after {} of {} starts", record->started(), runs + 1)};
    } else if (g_interrupted != 0) {
      failure = Error{"interrupted by a signal"};
    } else if (record->started() == 0 && now - started_at > kStartupNs) {
      failure = Error{
          fmt::format("vigied did not start the workload within {} s", kStartupNs / kNsPerSec)};
    } else if (now - started_at > bound_ns) {
      failure = Error{fmt::format("timed out after {} s with {} of {} starts", bound_ns / kNsPerSec,
                                  record->started(), runs + 1)};
    }
    if (failure) {
      break;
    }
    sleepNs(kPollNs);
  }
  // While vigied runs: its config.json is the bundle the runtime alone runs.
  Status copied = Status::okStatus();
  if (column == Column::kContainer && !failure && !fs::exists(setup.bundle + "/config.json")) {
    copied = copyBundle(setup, round);
  }
  Status stopped = stopVigied(*daemon);
  if (column == Column::kProcess) {
    // Instances outlive vigied only if it failed to stop them: end them by pid.
    struct stat binary {};
    if (stat(setup.crasher.c_str(), &binary) == 0) {
      for (pid_t pid : record->pids()) {
        if (runsBinary(pid, binary)) {
          kill(pid, SIGKILL);
        }
      }
    }
  } else {
    checkNoContainers(setup.runtime, setup.runtimeRoot(column), work.file("runc.log"),
                      "vigied (container column)");
  }
  if (failure) {
    if (!stopped) {
      failure->message += "; " + stopped.error().message;
    }
    failure->message += "\n  last lines of vigied's output:\n" + logTail(log, 20);
    return *failure;
  }
  if (!stopped) {
    return stopped.error();
  }
  if (!copied) {
    return copied.error();
  }
  size_t bad = 0;
  std::vector<int64_t> latencies = record->latencies(&bad);
  if (bad > 0) {
    fmt::print(stderr, "{} round {}: {} unusable pairs\n", columnName(column), round, bad);
  }
  return latencies;
}

// The runtime alone, on the bundle vigied wrote, in a crash loop as vigied runs it: this
// program is a child subreaper, so each container's process is re-parented to it; once it has
// exited, `runc delete --force` of it starts in the background and `runc run --detach` of the
// next at once. `loop` is the same span as the columns (crash -> next instance's main): the
// floor of a container restart here. Then what `run --detach` takes: spawn -> the workload's
// main, spawn -> runc exited.
struct RuntimeSample {
  std::vector<int64_t> loop, to_main, to_exit;
};

Status runRuntimeAlone(const Setup& setup, int count, int batch, RuntimeSample& sample) {
  const WorkDir& work = *setup.work;
  const std::string root = work.file("runc-root");
  const std::string log = work.file("runc.log");
  const std::string record_path = setup.records + "/runc.dat";
  std::error_code ec;
  fs::remove(record_path, ec);
  // Instances 0..count-1 exit 1 at once; the last one stays idle until it is deleted.
  auto record =
      RecordFile::create(record_path, static_cast<uint32_t>(count), monoNs() + 600 * kNsPerSec);
  if (!record) {
    return record.error();
  }
  std::vector<pid_t> deleting;  // background deletions, reaped at the end of the batch.
  auto finish = [&](Status status) {
    for (pid_t pid : deleting) {
      (void)waitBounded(pid, kCommandBoundNs);
    }
    checkNoContainers(setup.runtime, root, log, "the runtime alone");
    return status;
  };
  std::string previous;
  pid_t previous_pid = 0;
  for (int i = 0; i <= count; ++i) {
    if (g_interrupted != 0) {
      return finish(Error{"interrupted by a signal"});
    }
    const std::string id = fmt::format("bench-{}-{}-{}", getpid(), batch, i);
    const std::string pid_file = work.file(id + ".pid");
    if (previous_pid > 0) {
      // The previous instance's exit: from here on, what vigied would do.
      auto ended = waitBounded(previous_pid, kCommandBoundNs);
      if (!ended) {
        return finish(ended.error());
      }
      auto removal =
          spawnCommand({setup.runtime, "--root", root, "delete", "--force", previous}, log);
      if (!removal) {
        return finish(removal.error());
      }
      deleting.push_back(*removal);
    }
    const int64_t spawned = monoNs();
    int64_t exited = 0;
    auto status = runCommand(
        {setup.runtime, "--root", root, "--log", work.file(id + ".json"), "--log-format", "json",
         "run", "--detach", "--pid-file", pid_file, "--bundle", setup.bundle, id},
        log, &exited);
    if (!status) {
      return finish(status.error());
    }
    if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
      return finish(Error{fmt::format("{} run failed (wait status {:#x}):\n{}", setup.runtime,
                                      *status, logTail(log, 10))});
    }
    unlink(work.file(id + ".json").c_str());
    const std::string pid_text = vigie::bench::readWholeFile(pid_file);
    unlink(pid_file.c_str());
    previous = id;
    previous_pid = static_cast<pid_t>(std::atol(pid_text.c_str()));
    if (previous_pid <= 1) {
      return finish(Error{fmt::format("{} run wrote no pid file", setup.runtime)});
    }
    // `run --detach` returns once the container was started, maybe before its main ran.
    const auto index = static_cast<uint64_t>(i);
    for (const int64_t deadline = monoNs() + 10 * kNsPerSec; !record->hasStarted(index);) {
      if (monoNs() > deadline || g_interrupted != 0) {
        return finish(Error{fmt::format("container {} did not record its start", id)});
      }
      sleepNs(100'000);
    }
    sample.to_main.push_back(record->startNs(index) - spawned);
    sample.to_exit.push_back(exited - spawned);
  }
  // The last one is idle: delete --force kills it, and it is ours to reap.
  (void)runCommand({setup.runtime, "--root", root, "delete", "--force", previous}, log);
  (void)waitBounded(previous_pid, kCommandBoundNs);
  size_t bad = 0;
  std::vector<int64_t> loop = record->latencies(&bad);
  sample.loop.insert(sample.loop.end(), loop.begin(), loop.end());
  return finish(bad > 0 ? Status{Error{fmt::format("{} unusable pairs", bad)}}
                        : Status::okStatus());
}

struct Figures {
  size_t n = 0;
  int64_t median = 0, p90 = 0, max = 0;
};

Figures figuresOf(const std::vector<int64_t>& samples) {
  Figures figures;
  figures.n = samples.size();
  if (!samples.empty()) {
    figures.median = medianOf(samples);
    figures.p90 = percentile(samples, 90);
    figures.max = *std::max_element(samples.begin(), samples.end());
  }
  return figures;
}

void printRow(const std::string& round, const std::string& column,
              const std::vector<int64_t>& samples, const std::string& extra = "") {
  const Figures f = figuresOf(samples);
  fmt::print("{:<6} {:<30} {:>5} {:>9.2f} {:>9.2f} {:>9.2f}{}\n", round, column, f.n,
             toMs(f.median), toMs(f.p90), toMs(f.max), extra);
  (void)std::fflush(stdout);
}

// The first runc in the directories vigied searches (docs/containers.md).
std::string findRunc() {
  for (const char* dir : {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin"}) {
    const std::string path = std::string(dir) + "/runc";
    if (access(path.c_str(), X_OK) == 0) {
      return path;
    }
  }
  return "";
}

int runBenchmark(Options options) {
  for (const auto& [what, path] :
       {std::pair{"--vigied", &options.vigied}, std::pair{"--crasher", &options.crasher}}) {
    std::error_code ec;
    *path = fs::absolute(*path, ec).string();
    if (access(path->c_str(), X_OK) != 0) {
      fmt::print(stderr, "container_restart: {} {} is not an executable file (build it first)\n",
                 what, *path);
      return 1;
    }
  }
  auto work = WorkDir::create("container_restart", options.keep);
  if (!work) {
    fmt::print(stderr, "container_restart: {}\n", work.error().message);
    return 1;
  }
  Setup setup;
  setup.runtime = options.runtime;
  setup.work = &*work;
  setup.rootfs = work->file("rootfs");
  setup.records = work->file("records");
  setup.crasher = setup.rootfs + "/bin/crasher";
  setup.bundle = work->file("bundle");
  if (Status made = makeRootfs(setup, options.crasher); !made) {
    fmt::print(stderr, "container_restart: {}\n", made.error().message);
    return 1;
  }

  const int rounds = std::min(options.rounds, options.restarts);
  const int runc_runs = options.runc_runs > 0 ? options.runc_runs : options.restarts;
  fmt::print(
      "container_restart: crash -> next instance running, {} restarts per column in {} "
      "alternating rounds; runc's own crash loop {} restarts\n",
      options.restarts, rounds, runc_runs);
  fmt::print("  runtime {}\n  vigied  {}\n  crasher {} (static, in a busybox rootfs)\n",
             setup.runtime, options.vigied, options.crasher);
  fmt::print("  load average {}\n\n", loadAverage());
  fmt::print("{:<6} {:<30} {:>5} {:>9} {:>9} {:>9}   (ms)\n", "round", "column", "n", "median",
             "p90", "max");
  (void)std::fflush(stdout);

  std::vector<int64_t> all_container, all_process;
  RuntimeSample runtime;
  for (int r = 1; r <= rounds; ++r) {
    // Spread the restarts (and the runtime's runs) over the rounds; the first ones take the rest.
    const int restarts = options.restarts / rounds + (r <= options.restarts % rounds ? 1 : 0);
    const int runc_count = runc_runs / rounds + (r <= runc_runs % rounds ? 1 : 0);
    const std::string label = fmt::format("{}/{}", r, rounds);
    // The container column first in odd rounds (the first one writes the bundle), last in even.
    const std::vector<Column> order = r % 2 == 1
                                          ? std::vector{Column::kContainer, Column::kProcess}
                                          : std::vector{Column::kProcess, Column::kContainer};
    for (Column column : order) {
      auto latencies = runRound(setup, options.vigied, column, r, restarts);
      if (!latencies) {
        fmt::print(stderr, "container_restart: {} round {}: {}\n", columnName(column), label,
                   latencies.error().message);
        return 1;
      }
      printRow(label, columnName(column), *latencies);
      auto& all = column == Column::kContainer ? all_container : all_process;
      all.insert(all.end(), latencies->begin(), latencies->end());
    }
    if (runc_count > 0) {
      RuntimeSample batch;
      if (Status ran = runRuntimeAlone(setup, runc_count, r, batch); !ran) {
        fmt::print(stderr, "container_restart: the runtime alone, round {}: {}\n", label,
                   ran.error().message);
        return 1;
      }
      printRow(label, "runc loop (no vigied)", batch.loop);
      for (auto [from, to] :
           {std::pair{&batch.loop, &runtime.loop}, std::pair{&batch.to_main, &runtime.to_main},
            std::pair{&batch.to_exit, &runtime.to_exit}}) {
        to->insert(to->end(), from->begin(), from->end());
      }
    }
  }

  fmt::print("\n");
  printRow("all", "container (crash -> running)", all_container);
  printRow("all", "process (crash -> running)", all_process);
  printRow("all", "runc loop (crash -> running)", runtime.loop);
  printRow("all", "  runc run -d -> workload main", runtime.to_main);
  printRow("all", "  runc run -d -> runc exited", runtime.to_exit);
  const int64_t container = medianOf(all_container);
  const int64_t process = medianOf(all_process);
  const int64_t loop = medianOf(runtime.loop);
  const int64_t run = medianOf(runtime.to_main);
  fmt::print("\nratio container/process (medians): {:.1f}\n",
             process > 0 ? static_cast<double>(container) / static_cast<double>(process) : 0.0);
  fmt::print(
      "breakdown (medians): container restart under vigied {:.2f} ms; runc's own crash loop "
      "{:.2f} ms, of which `runc run --detach` -> workload main {:.2f} ms; vigied adds {:.2f} ms "
      "beyond the runtime (ratio {:.2f}); a process unit's whole restart {:.2f} ms\n",
      toMs(container), toMs(loop), toMs(run), toMs(container - loop),
      loop > 0 ? static_cast<double>(container) / static_cast<double>(loop) : 0.0, toMs(process));
  fmt::print("  load average {}\n", loadAverage());

  for (Column column : {Column::kContainer, Column::kProcess}) {
    const std::vector<std::string> left = runcList(setup.runtime, setup.runtimeRoot(column));
    if (!left.empty()) {
      fmt::print(stderr, "warning: runc --root {} list still shows {} container(s)\n",
                 setup.runtimeRoot(column), left.size());
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  options.vigied = besideSelf("vigied");
  options.crasher = besideSelf("bench_crasher_static");

  CLI::App app{
      "crash -> next instance running for a container unit under vigied, against the same "
      "crasher as a process unit, and the OCI runtime alone (root)"};
  app.add_option("--vigied", options.vigied, "vigied binary (default: the one next to this)");
  app.add_option("--crasher", options.crasher,
                 "static workload (default: bench_crasher_static next to this)");
  app.add_option("--runtime", options.runtime, "runc binary (default: the first runc found)");
  auto* restarts =
      app.add_option("--restarts", options.restarts, "restarts measured per column (default 100)")
          ->check(CLI::Range(1, 10000));
  auto* rounds = app.add_option("--rounds", options.rounds,
                                "alternating rounds the restarts are split into (default 5)")
                     ->check(CLI::Range(1, 100));
  app.add_option("--runc-runs", options.runc_runs,
                 "restarts of the runtime's own crash loop (default: --restarts)")
      ->check(CLI::Range(1, 1000));
  app.add_flag("--quick", options.quick, "smoke run: 20 restarts in 2 rounds");
  app.add_flag("--keep-work-dir", options.keep, "keep the work files for debugging");
  CLI11_PARSE(app, argc, argv);
  if (options.quick) {
    if (restarts->count() == 0) {
      options.restarts = 20;
    }
    if (rounds->count() == 0) {
      options.rounds = 2;
    }
  }

  if (geteuid() != 0) {
    fmt::print("container_restart: skipped: needs root (the OCI runtime creates namespaces)\n");
    return 0;
  }
  if (options.runtime.empty()) {
    options.runtime = findRunc();
  }
  if (options.runtime.empty() || access(options.runtime.c_str(), X_OK) != 0) {
    fmt::print("container_restart: skipped: runc not found{}\n",
               options.runtime.empty() ? "" : " at " + options.runtime);
    return 0;
  }
  if (access("/bin/busybox", X_OK) != 0) {
    fmt::print("container_restart: skipped: no /bin/busybox for the root filesystem\n");
    return 0;
  }
  installSignalHandlers();
  // The runtime alone's containers are re-parented to us, as vigied's are to it.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  return runBenchmark(std::move(options));
}
