// restart_latency: exit -> next-exec latency of a crash-looping workload, measured in one run
// under vigied and under a bare posix_spawn+waitpid loop (the floor on this machine).
//
// Latency i = start_ns[i+1] - exit_ns[i], both taken by bench_crasher itself (see crasher.c), so
// neither supervisor needs instrumentation and both columns measure the same span. This is a
// benchmark: it exits 0 whatever the figures are and non-zero only when a run failed.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
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

using vigie::Error;
using vigie::Result;
using vigie::Status;
using vigie::bench::besideSelf;
using vigie::bench::loadAverage;
using vigie::bench::logTail;
using vigie::bench::monoNs;
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
constexpr int kMinRestarts = 200;
constexpr int kQuickRestarts = 20;
constexpr double kTargetRatio = 1.3;
constexpr int64_t kPollNs = kNsPerMs;           // record file polling period while vigied runs.
constexpr int64_t kStartupNs = 10 * kNsPerSec;  // vigied must start the workload within this.
constexpr int64_t kStopGraceNs = 15 * kNsPerSec;
// The bound on what units' cgroups may add to the median restart (--cgroups).
constexpr int64_t kCgroupTargetNs = kNsPerMs / 2;

// Set by signal handlers; no SA_RESTART, so a blocked waitpid returns EINTR and loops see them.
volatile sig_atomic_t g_interrupted = 0;
volatile sig_atomic_t g_alarm = 0;

void onSignal(int signal_number) {
  if (signal_number == SIGALRM) {
    g_alarm = 1;
  } else {
    g_interrupted = 1;
  }
}

void installSignalHandlers() {
  struct sigaction action {};
  action.sa_handler = onSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP, SIGALRM}) {
    sigaction(signal_number, &action, nullptr);
  }
}

// Why a bounded loop stopped early: a signal from outside, or its SIGALRM deadline.
Error stopReason() {
  return Error{g_interrupted != 0 ? "interrupted by a signal" : "timed out"};
}

struct Options {
  std::string vigied;
  std::string crasher;
  int restarts = kMinRestarts;
  int repeat = 3;
  bool quick = false;
  double timeout_s = 0;  // per measured phase; 0 = derived from the restart count.
  std::string tsv;
  bool keep_work_dir = false;
  bool cgroups = false;  // also a third column: vigied with units' cgroups and limits.

  int64_t phaseBoundNs() const {
    if (timeout_s > 0) {
      return static_cast<int64_t>(timeout_s * 1e9);
    }
    // Generous: the floor here is ~1-2 ms per restart, so this only catches a stuck run.
    return 30 * kNsPerSec + static_cast<int64_t>(restarts) * 100 * kNsPerMs;
  }
};

struct Stats {
  size_t n = 0;
  size_t bad = 0;
  int64_t min_ns = 0;
  int64_t median_ns = 0;
  int64_t p99_ns = 0;
};

// Nearest rank: the smallest sample with at least `percent`% of the sample at or below it.
int64_t nearestRank(const std::vector<int64_t>& sorted, size_t percent) {
  size_t rank = (percent * sorted.size() + 99) / 100;
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

Stats computeStats(std::vector<int64_t> samples, size_t bad) {
  Stats stats;
  stats.n = samples.size();
  stats.bad = bad;
  if (samples.empty()) {
    return stats;
  }
  std::sort(samples.begin(), samples.end());
  stats.min_ns = samples.front();
  stats.median_ns = nearestRank(samples, 50);
  stats.p99_ns = nearestRank(samples, 99);
  return stats;
}

double toMs(int64_t ns) {
  return static_cast<double>(ns) / static_cast<double>(kNsPerMs);
}

// One measured phase: the latencies and the count of unusable pairs.
struct Sample {
  std::vector<int64_t> latencies;
  size_t bad = 0;
};

std::string describeWaitStatus(int status) {
  if (WIFEXITED(status)) {
    return fmt::format("exit status {}", WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  }
  return fmt::format("wait status {:#x}", status);
}

// Waits (bounded, polling at kPollNs) until instance `index` has recorded its start.
Status waitForStart(const RecordFile& record, uint64_t index, int64_t deadline_ns) {
  while (!record.hasStarted(index)) {
    if (g_interrupted != 0 || monoNs() > deadline_ns) {
      return Error{fmt::format("instance {} did not start: {}", index,
                               g_interrupted != 0 ? "interrupted" : "timed out")};
    }
    sleepNs(kPollNs);
  }
  return Status::okStatus();
}

// Arms SIGALRM for the whole bare loop: a blocked waitpid then returns EINTR, so the loop has a
// time bound without adding a system call to the measured path.
class AlarmGuard {
 public:
  explicit AlarmGuard(int64_t after_ns) {
    g_alarm = 0;
    itimerval timer{};
    timer.it_value.tv_sec = after_ns / kNsPerSec;
    timer.it_value.tv_usec = (after_ns % kNsPerSec) / 1000;
    setitimer(ITIMER_REAL, &timer, nullptr);
  }
  AlarmGuard(const AlarmGuard&) = delete;
  AlarmGuard& operator=(const AlarmGuard&) = delete;
  ~AlarmGuard() {
    itimerval off{};
    setitimer(ITIMER_REAL, &off, nullptr);
    g_alarm = 0;
  }
};

Status killAndReap(pid_t pid) {
  kill(pid, SIGKILL);
  while (waitpid(pid, nullptr, 0) < 0) {
    if (errno != EINTR) {
      return Error::fromErrno(fmt::format("waitpid {}", pid));
    }
  }
  return Status::okStatus();
}

// Column 1: the floor. posix_spawn, blocking waitpid, spawn again: nothing else in the loop.
Result<Sample> runBareLoop(const Options& options, const std::string& record_path) {
  const auto runs = static_cast<uint32_t>(options.restarts);
  const int64_t bound_ns = options.phaseBoundNs();
  auto record = RecordFile::create(record_path, runs, monoNs() + bound_ns + 60 * kNsPerSec);
  if (!record) {
    return record.error();
  }
  std::string crasher = options.crasher;
  std::string record_arg = record_path;
  char* argv[] = {crasher.data(), record_arg.data(), nullptr};
  std::vector<int> statuses(runs, 0);

  AlarmGuard alarm_guard(bound_ns);
  for (uint32_t i = 0; i <= runs; ++i) {
    if (g_interrupted != 0 || g_alarm != 0) {
      return stopReason();
    }
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, crasher.c_str(), nullptr, nullptr, argv, environ);
    if (rc != 0) {
      return Error::fromErrno("posix_spawn " + crasher, rc);
    }
    if (i == runs) {
      // The last instance stays idle: wait for its start record, then end it ourselves.
      Status started = waitForStart(*record, i, monoNs() + kStartupNs);
      (void)killAndReap(pid);
      if (!started) {
        return started.error();
      }
      break;
    }
    while (waitpid(pid, &statuses[i], 0) < 0) {
      if (errno != EINTR) {
        return Error::fromErrno("waitpid");
      }
      if (g_interrupted != 0 || g_alarm != 0) {
        (void)killAndReap(pid);
        return stopReason();
      }
    }
    // A broken crasher fails only after a pause: stop at once instead of eating the time bound.
    if (!WIFEXITED(statuses[i]) || WEXITSTATUS(statuses[i]) != 1) {
      break;
    }
  }
  for (uint32_t i = 0; i < runs; ++i) {
    if (!WIFEXITED(statuses[i]) || WEXITSTATUS(statuses[i]) != 1) {
      return Error{fmt::format("crasher instance {} ended with {} instead of exit status 1", i,
                               describeWaitStatus(statuses[i]))};
    }
  }
  Sample sample;
  sample.latencies = record->latencies(&sample.bad);
  return sample;
}

// `cgroup_parent` empty: vigied without cgroups (the supervision core alone). Else the unit
// gets a cgroup under it, with a limit in each controller, so that every hierarchy is joined.
Status writeVigiedConfig(const std::string& path, const std::string& crasher,
                         const std::string& record_path, const std::string& cgroup_parent) {
  std::ofstream out(path);
  if (cgroup_parent.empty()) {
    out << "cgroups: {mode: off}\n";
  } else {
    out << "cgroups: {mode: on, parent: " << yamlQuote(cgroup_parent) << "}\n";
  }
  // Backoff 0 and no start limit: restart at once, always, as the floor does.
  out << "workloads:\n"
      << "  - name: crasher\n"
      << "    exec: [" << yamlQuote(crasher) << ", " << yamlQuote(record_path) << "]\n"
      << "    restart:\n"
      << "      policy: always\n"
      << "      backoff: {initial: 0s, max: 0s}\n"
      << "      limit: {burst: 0}\n";
  if (!cgroup_parent.empty()) {
    out << "    resources: {memory_max: 1GiB, cpu_weight: 100, pids_max: 10000}\n";
  }
  out.close();
  if (!out) {
    return Error{"cannot write " + path};
  }
  return Status::okStatus();
}

// vigied with the defaults of a bench (vigied_child.h), its log rewritten each run.
Result<VigiedChild> startVigied(const std::string& vigied, const std::string& config,
                                const std::string& state_dir, const std::string& log) {
  VigiedChildOptions options;
  options.args = vigiedArgs(vigied, config, state_dir, state_dir + "/vigie.sock");
  options.log = log;
  options.stop_grace_ns = kStopGraceNs;
  return VigiedChild::start(options);
}

// Column 2: vigied supervising the same crasher with an immediate-restart policy, without
// cgroups. Column 3 (`cgroups`): the same with the unit in its own cgroups.
Result<Sample> runVigied(const Options& options, const WorkDir& work, int repeat, bool cgroups) {
  const auto runs = static_cast<uint32_t>(options.restarts);
  const int64_t bound_ns = options.phaseBoundNs();
  const std::string tag = fmt::format("{}-{}", cgroups ? "cgroups" : "vigied", repeat);
  const std::string record_path = work.file(tag + ".dat");
  const std::string config_path = work.file(tag + ".yaml");
  const std::string state_dir = work.file(tag + "-state");
  const std::string log_path = work.file(tag + ".log");

  auto record = RecordFile::create(record_path, runs, monoNs() + bound_ns + 60 * kNsPerSec);
  if (!record) {
    return record.error();
  }
  const std::string cgroup_parent =
      cgroups ? fmt::format("vigie-bench-{}-{}", getpid(), repeat) : std::string();
  if (Status written = writeVigiedConfig(config_path, options.crasher, record_path, cgroup_parent);
      !written) {
    return written.error();
  }
  if (mkdir(state_dir.c_str(), 0700) != 0) {
    return Error::fromErrno("mkdir " + state_dir);
  }

  struct stat crasher_binary {};
  if (stat(options.crasher.c_str(), &crasher_binary) != 0) {
    return Error::fromErrno("stat " + options.crasher);
  }
  // Instances outlive vigied only if it failed to stop them; they are ours, end them by pid.
  auto end_strays = [&] {
    for (pid_t pid : record->pids()) {
      if (runsBinary(pid, crasher_binary)) {
        kill(pid, SIGKILL);
      }
    }
  };

  auto vigied = startVigied(options.vigied, config_path, state_dir, log_path);
  if (!vigied) {
    return vigied.error();
  }
  const int64_t started_at = monoNs();
  std::optional<Error> failure;
  while (!record->hasStarted(runs)) {
    const int64_t now = monoNs();
    if (std::optional<int> status = vigied->exited()) {
      failure = Error{fmt::format("vigied exited early ({}) after {} of {} starts",
                                  describeWaitStatus(*status), record->started(), runs + 1)};
      break;
    }
    if (g_interrupted != 0) {
      failure = Error{"interrupted by a signal"};
      break;
    }
    if (record->started() == 0 && now - started_at > kStartupNs) {
      failure = Error{
          fmt::format("vigied did not start the workload within {} s", kStartupNs / kNsPerSec)};
      break;
    }
    if (now - started_at > bound_ns) {
      failure =
          Error{fmt::format("timed out after {:.0f} s with {} of {} starts",
                            static_cast<double>(bound_ns) / 1e9, record->started(), runs + 1)};
      break;
    }
    sleepNs(kPollNs);
  }
  auto stopped = vigied->stop();
  end_strays();
  if (failure) {
    failure->message +=
        "\n  last lines of vigied's output (--keep-work-dir keeps it):\n" + logTail(log_path, 20);
    return *failure;
  }
  if (!stopped) {
    return stopped.error();
  }
  Sample sample;
  sample.latencies = record->latencies(&sample.bad);
  return sample;
}

int64_t medianOf(std::vector<int64_t> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  if (n == 0) {
    return 0;
  }
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double ratio(int64_t numerator, int64_t denominator) {
  return denominator > 0 ? static_cast<double>(numerator) / static_cast<double>(denominator) : 0;
}

void printRow(const std::string& run, const std::string& column, const Stats& stats,
              const std::string& extra) {
  fmt::print("{:<8} {:<7} {:>6} {:>9.3f} {:>9.3f} {:>9.3f}{}{}\n", run, column, stats.n,
             toMs(stats.min_ns), toMs(stats.median_ns), toMs(stats.p99_ns), extra,
             stats.bad > 0 ? fmt::format("  ({} unusable pairs)", stats.bad) : "");
  (void)std::fflush(stdout);
}

Status checkExecutable(const std::string& what, const std::string& path) {
  if (path.empty() || path.front() != '/') {
    return Error{fmt::format("{} must be an absolute path: '{}'", what, path)};
  }
  if (access(path.c_str(), X_OK) != 0) {
    return Error::fromErrno(fmt::format("{} is not an executable file: {}", what, path));
  }
  return Status::okStatus();
}

Status writeTsv(const std::string& path, const Stats& bare, const Stats& vigied) {
  std::ofstream out(path);
  out << "column\tn\tmin_ms\tmedian_ms\tp99_ms\n";
  for (const auto& [name, stats] : {std::pair{"bare", bare}, std::pair{"vigied", vigied}}) {
    out << fmt::format("{}\t{}\t{:.3f}\t{:.3f}\t{:.3f}\n", name, stats.n, toMs(stats.min_ns),
                       toMs(stats.median_ns), toMs(stats.p99_ns));
  }
  out.close();
  if (!out) {
    return Error{"cannot write " + path};
  }
  return Status::okStatus();
}

int runBenchmark(Options options) {
  std::error_code ignored;
  options.crasher = std::filesystem::absolute(options.crasher, ignored).string();
  options.vigied = std::filesystem::absolute(options.vigied, ignored).string();
  for (const auto& [what, path] :
       {std::pair{"--crasher", options.crasher}, std::pair{"--vigied", options.vigied}}) {
    if (Status ok = checkExecutable(what, path); !ok) {
      fmt::print(stderr, "restart_latency: {}\n", ok.error().message);
      return 1;
    }
  }
  auto work = WorkDir::create("restart_latency", options.keep_work_dir);
  if (!work) {
    fmt::print(stderr, "restart_latency: {}\n", work.error().message);
    return 1;
  }

  fmt::print(
      "restart_latency: exit -> next-exec latency, {} restarts of a crash loop, {} repeat{}\n",
      options.restarts, options.repeat, options.repeat == 1 ? "" : "s");
  fmt::print("  crasher {}\n  vigied  {}\n  load average {}\n\n", options.crasher, options.vigied,
             loadAverage());
  fmt::print("{:<8} {:<7} {:>6} {:>9} {:>9} {:>9}   (ms)\n", "run", "column", "n", "min", "median",
             "p99");
  (void)std::fflush(stdout);

  std::vector<int64_t> all_bare;
  std::vector<int64_t> all_vigied;
  size_t bad_bare = 0;
  size_t bad_vigied = 0;
  std::vector<int64_t> bare_medians;
  std::vector<int64_t> vigied_medians;
  std::vector<int64_t> all_cgroups;
  std::vector<int64_t> cgroup_medians;
  std::vector<int64_t> cgroup_costs;  // per repeat: the cgroup column's median minus vigied's.
  size_t bad_cgroups = 0;
  for (int r = 1; r <= options.repeat; ++r) {
    const std::string run = fmt::format("{}/{}", r, options.repeat);
    auto bare = runBareLoop(options, work->file(fmt::format("bare-{}.dat", r)));
    if (!bare) {
      fmt::print(stderr, "restart_latency: bare loop, repeat {}: {}\n", run, bare.error().message);
      return 1;
    }
    const Stats bare_stats = computeStats(bare->latencies, bare->bad);
    printRow(run, "bare", bare_stats, "");

    auto vigied = runVigied(options, *work, r, /*cgroups=*/false);
    if (!vigied) {
      fmt::print(stderr, "restart_latency: vigied, repeat {}: {}\n", run, vigied.error().message);
      return 1;
    }
    const Stats vigied_stats = computeStats(vigied->latencies, vigied->bad);
    printRow(run, "vigied", vigied_stats,
             fmt::format("   ratio of medians {:.2f}",
                         ratio(vigied_stats.median_ns, bare_stats.median_ns)));

    if (bare_stats.n == 0 || vigied_stats.n == 0) {
      fmt::print(stderr, "restart_latency: repeat {} produced no usable latency\n", run);
      return 1;
    }
    if (options.cgroups) {
      auto cgroups = runVigied(options, *work, r, /*cgroups=*/true);
      if (!cgroups) {
        fmt::print(stderr, "restart_latency: vigied with cgroups, repeat {}: {}\n", run,
                   cgroups.error().message);
        return 1;
      }
      const Stats cgroup_stats = computeStats(cgroups->latencies, cgroups->bad);
      printRow(run, "cgroups", cgroup_stats,
               fmt::format("   median {:+.3f} ms over vigied",
                           toMs(cgroup_stats.median_ns - vigied_stats.median_ns)));
      if (cgroup_stats.n == 0) {
        fmt::print(stderr, "restart_latency: repeat {} produced no usable latency\n", run);
        return 1;
      }
      cgroup_medians.push_back(cgroup_stats.median_ns);
      cgroup_costs.push_back(cgroup_stats.median_ns - vigied_stats.median_ns);
      all_cgroups.insert(all_cgroups.end(), cgroups->latencies.begin(), cgroups->latencies.end());
      bad_cgroups += cgroups->bad;
    }
    bare_medians.push_back(bare_stats.median_ns);
    vigied_medians.push_back(vigied_stats.median_ns);
    all_bare.insert(all_bare.end(), bare->latencies.begin(), bare->latencies.end());
    all_vigied.insert(all_vigied.end(), vigied->latencies.begin(), vigied->latencies.end());
    bad_bare += bare->bad;
    bad_vigied += vigied->bad;
  }

  const Stats bare_all = computeStats(all_bare, bad_bare);
  const Stats vigied_all = computeStats(all_vigied, bad_vigied);
  printRow("all", "bare", bare_all, "");
  printRow(
      "all", "vigied", vigied_all,
      fmt::format("   ratio of medians {:.2f}", ratio(vigied_all.median_ns, bare_all.median_ns)));

  const int64_t bare_median = medianOf(bare_medians);
  const int64_t vigied_median = medianOf(vigied_medians);
  const double summary_ratio = ratio(vigied_median, bare_median);
  fmt::print(
      "\nsummary: median of {} per-repeat medians: bare {:.3f} ms, vigied {:.3f} ms, ratio {:.2f}"
      " -> {} the {:.1f}x target\n",
      options.repeat, toMs(bare_median), toMs(vigied_median), summary_ratio,
      summary_ratio <= kTargetRatio ? "within" : "OUTSIDE", kTargetRatio);
  if (options.cgroups) {
    const Stats cgroups_all = computeStats(all_cgroups, bad_cgroups);
    // Paired per repeat (the two columns run back to back), then the median over repeats: the
    // load of a shared machine moves both columns of a repeat together.
    const int64_t cost = medianOf(cgroup_costs);
    fmt::print(
        "cgroups: pooled median {:.3f} ms, median of per-repeat medians {:.3f} ms; median of "
        "the per-repeat differences {:+.3f} ms over vigied without cgroups -> {} the +{:.1f} ms "
        "target\n",
        toMs(cgroups_all.median_ns), toMs(medianOf(cgroup_medians)), toMs(cost),
        cost <= kCgroupTargetNs ? "within" : "OUTSIDE", toMs(kCgroupTargetNs));
  }
  fmt::print("  load average {}\n", loadAverage());

  if (!options.tsv.empty()) {
    if (Status written = writeTsv(options.tsv, bare_all, vigied_all); !written) {
      fmt::print(stderr, "restart_latency: {}\n", written.error().message);
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  options.vigied = besideSelf("vigied");
  options.crasher = besideSelf("bench_crasher");

  CLI::App app{
      "Measures exit -> next-exec latency of a crash-looping workload under vigied and under a "
      "bare posix_spawn+waitpid loop, in the same run."};
  app.add_option("--vigied", options.vigied, "vigied binary (default: the one next to this)");
  app.add_option("--crasher", options.crasher,
                 "workload binary (default: bench_crasher next to this)");
  auto* restarts = app.add_option("--restarts", options.restarts,
                                  "restarts measured per column and repeat (min 200)");
  auto* repeat = app.add_option("--repeat", options.repeat, "repeats (the machine is noisy)")
                     ->check(CLI::Range(1, 50));
  app.add_flag("--quick", options.quick,
               "smoke run: allows fewer than 200 restarts; defaults to 20 restarts, 1 repeat");
  app.add_option("--timeout", options.timeout_s,
                 "bound of one measured phase in seconds (default 30 + 0.1 per restart)")
      ->check(CLI::PositiveNumber);
  app.add_option("--tsv", options.tsv, "also write the pooled figures to this TSV file");
  app.add_flag("--keep-work-dir", options.keep_work_dir, "keep the work files for debugging");
  app.add_flag("--cgroups", options.cgroups,
               "also measure vigied with the unit in its own cgroups, with limits (root)");
  CLI11_PARSE(app, argc, argv);

  if (options.quick) {
    if (restarts->count() == 0) {
      options.restarts = kQuickRestarts;
    }
    if (repeat->count() == 0) {
      options.repeat = 1;
    }
  }
  const int min_restarts = options.quick ? 1 : kMinRestarts;
  if (options.restarts < min_restarts || options.restarts > 100000) {
    fmt::print(stderr, "restart_latency: --restarts must be in [{}, 100000] (--quick for fewer)\n",
               min_restarts);
    return 2;
  }
  installSignalHandlers();
  return runBenchmark(std::move(options));
}
