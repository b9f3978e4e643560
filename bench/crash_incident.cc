// crash_incident (root): what crash capture costs a restart under vigied, and how long a
// complete incident takes. vigied supervises crash_bigmem (N MB dirtied, then it waits for the
// bench's SIGUSR1 and segfaults) with its core_pattern installed and the build's
// vigie-coredump, once with `core: true` and once with `core: false`. One crash at a time:
// each round triggers a crash, then waits for the restart and, with the core on, for the
// complete incident, so that captures never pile up on each other. Per round:
//   restart  = start of instance i+1 - fault of instance i (both stamped by the workload);
//   drain    = the helper's drain time (report.pb timings), what the crashed process waited for;
//   incident = fault -> incident.json complete, with a backtrace, seen in <state>/crash.
// Targets: restart(core on) - restart(core off) <= drain + 2 ms; incident within 1 s. The
// host's core_pattern is put back however the bench ends (bench/core_pattern_guard.h).
// A benchmark: it exits 0 whatever the figures are, non-zero only when a run failed.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <google/protobuf/util/time_util.h>
#include <CLI/CLI.hpp>

#include "agent/coredump/capture_id.h"
#include "agent/crash/incident_store.h"
#include "bench/core_pattern_guard.h"
#include "vigie/v1/crash.pb.h"

namespace fs = std::filesystem;

namespace {

int64_t monoNs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000000000 + now.tv_nsec;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

double ms(const google::protobuf::Duration& d) {
  return google::protobuf::util::TimeUtil::DurationToMicroseconds(d) / 1000.0;
}

double median(std::vector<double> values) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double maxOf(const std::vector<double>& values) {
  return values.empty() ? 0.0 : *std::max_element(values.begin(), values.end());
}

struct Stamp {
  std::string kind;  // start, ready, fault
  int64_t ns = 0;
  int pid = 0;
};

std::vector<Stamp> readStamps(const std::string& file) {
  std::vector<Stamp> out;
  std::istringstream in(slurp(file));
  Stamp stamp;
  while (in >> stamp.kind >> stamp.ns >> stamp.pid) {
    out.push_back(stamp);
  }
  return out;
}

struct Options {
  std::string vigied, helper, workload;
  int megabytes = 256;
  int rounds = 3;
  int step_timeout_s = 60;
  bool keep = false;
};

struct RunResult {
  std::vector<double> restart_ms, incident_ms, drain_ms, symbolize_ms, compress_ms, total_ms;
  std::string failure;  // empty when every round was measured
};

// Looks for the complete incident of `pid` (with a backtrace) in the store. Only the record
// whose id names the pid is read, and only when its incident.json changed.
class IncidentWatch {
 public:
  IncidentWatch(std::string store, int pid) : store_(std::move(store)), pid_(pid) {}

  // The report of the complete incident, once it is there; an error text when it ended
  // otherwise (capture-failed, timed-out).
  std::optional<vigie::v1::CaptureReport> poll(std::string& failure) {
    if (dir_.empty()) {
      const std::string needle = "-" + std::to_string(pid_) + "-";
      std::error_code ec;
      for (fs::directory_iterator it(store_, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (vigie::coredump::isCaptureId(name) && name.find(needle) != std::string::npos) {
          dir_ = it->path().string();
        }
      }
      if (dir_.empty()) {
        return std::nullopt;
      }
    }
    struct stat st {};
    const std::string json = dir_ + "/" + vigie::crash::kIncidentFile;
    if (::stat(json.c_str(), &st) != 0 ||
        (st.st_ino == seen_.st_ino && st.st_mtim.tv_nsec == seen_.st_mtim.tv_nsec &&
         st.st_mtim.tv_sec == seen_.st_mtim.tv_sec)) {
      return std::nullopt;
    }
    seen_ = st;
    auto incident = vigie::crash::incidentFromJson(slurp(json));
    if (!incident) {
      return std::nullopt;
    }
    switch (incident->status()) {
      case vigie::v1::INCIDENT_STATUS_COMPLETE:
        break;
      case vigie::v1::INCIDENT_STATUS_PENDING:
        return std::nullopt;
      default:
        failure = fmt::format("incident {} ended {} ({})", incident->id(),
                              vigie::v1::IncidentStatus_Name(incident->status()),
                              incident->errors_size() > 0 ? incident->errors(0).message() : "");
        return std::nullopt;
    }
    if (incident->backtrace().threads_size() == 0) {
      failure = "incident " + incident->id() + " is complete without a backtrace";
      return std::nullopt;
    }
    vigie::v1::CaptureReport report;
    (void)report.ParseFromString(slurp(dir_ + "/" + vigie::crash::kReportFile));
    return report;
  }

 private:
  std::string store_;
  int pid_;
  std::string dir_;
  struct stat seen_ {};
};

pid_t startVigied(const Options& options, const std::string& dir) {
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // a killed bench leaves no vigied behind.
    if (::getppid() != parent) {
      ::_exit(127);
    }
    ::setpgid(0, 0);
    const int log = ::open((dir + "/vigied.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(log, 1);
    ::dup2(log, 2);
    const std::string config = dir + "/vigie.yaml";
    const std::string state = dir + "/state";
    const std::string socket = dir + "/v.sock";
    // --cgroups off: the bench measures crash capture, and a killed run must not leave a
    // `vigie` cgroup parent behind on the host.
    ::execl(options.vigied.c_str(), options.vigied.c_str(), "--config", config.c_str(),
            "--state-dir", state.c_str(), "--socket", socket.c_str(), "--metrics-listen", "",
            "--log-target", "stderr", "--cgroups", "off", nullptr);
    ::_exit(127);
  }
  return pid;
}

void stopVigied(pid_t pid) {
  ::kill(pid, SIGTERM);  // it stops the unit and puts the core_pattern back.
  const int64_t deadline = monoNs() + int64_t{30} * 1000000000;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (monoNs() > deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return;
    }
    ::usleep(10000);
  }
}

RunResult runOnce(const Options& options, bool core) {
  RunResult result;
  char dir_template[] = "/tmp/crash_incident.XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) {
    result.failure = "mkdtemp failed";
    return result;
  }
  const std::string dir = dir_template;
  // A short helper path: the kernel keeps 127 bytes of the pattern.
  std::error_code link_error;
  fs::create_symlink(options.helper, dir + "/vc", link_error);
  const std::string stamp_file = dir + "/stamps";
  std::ofstream(dir + "/vigie.yaml") << fmt::format(
      "workloads:\n"
      "  - name: big\n"
      "    exec: ['{}', '{}', '{}']\n"
      "    core: {}\n"
      "    restart:\n"
      "      backoff: {{initial: 0s, max: 0s}}\n"
      "      limit: {{burst: 0}}\n"
      "crash:\n"
      "  core_pattern: install\n"
      "  helper: {}/vc\n"
      "  helper_config: {}/c.json\n"
      "  intake_socket: {}/i.sock\n"
      "  rate_limit: {{burst: 0}}\n",
      options.workload, options.megabytes, stamp_file, core ? "true" : "false", dir, dir, dir);
  const pid_t vigied = startVigied(options, dir);
  const int64_t step = int64_t{options.step_timeout_s} * 1000000000;
  std::set<int> triggered;
  for (int round = 0; round < options.rounds && result.failure.empty(); ++round) {
    // 1. The next instance has dirtied its memory: crash it.
    int victim = 0;
    for (int64_t deadline = monoNs() + step; victim == 0; ::usleep(2000)) {
      for (const Stamp& stamp : readStamps(stamp_file)) {
        if (stamp.kind == "ready" && !triggered.count(stamp.pid)) {
          victim = stamp.pid;
        }
      }
      if (victim == 0 && monoNs() > deadline) {
        result.failure = fmt::format("round {}: no instance ready within {} s", round + 1,
                                     options.step_timeout_s);
        break;
      }
    }
    if (victim == 0) {
      break;
    }
    triggered.insert(victim);
    ::kill(victim, SIGUSR1);
    // 2. Its restart, and with the core on its complete incident.
    IncidentWatch watch(dir + "/state/crash", victim);
    std::optional<double> restart, incident;
    for (int64_t deadline = monoNs() + step; !restart || (core && !incident); ::usleep(2000)) {
      if (core && !incident) {
        std::string failure;
        if (auto report = watch.poll(failure)) {
          incident = 0;  // the fault stamp is read below: the time is now.
          const int64_t seen = monoNs();
          for (const Stamp& stamp : readStamps(stamp_file)) {
            if (stamp.kind == "fault" && stamp.pid == victim) {
              incident = (seen - stamp.ns) / 1e6;
            }
          }
          const auto& t = report->timings();
          result.drain_ms.push_back(ms(t.drain()));
          result.symbolize_ms.push_back(ms(t.symbolize()));
          result.compress_ms.push_back(ms(t.compress()));
          result.total_ms.push_back(ms(t.total()));
        } else if (!failure.empty()) {
          result.failure = fmt::format("round {}: {}", round + 1, failure);
          break;
        }
      }
      if (!restart) {
        const auto stamps = readStamps(stamp_file);
        int64_t fault = 0;
        for (const Stamp& stamp : stamps) {
          if (stamp.kind == "fault" && stamp.pid == victim) {
            fault = stamp.ns;
          } else if (fault != 0 && stamp.kind == "start") {
            restart = (stamp.ns - fault) / 1e6;
            break;
          }
        }
      }
      if (monoNs() > deadline) {
        result.failure =
            fmt::format("round {}: {} within {} s", round + 1,
                        restart ? "no complete incident" : "no restart", options.step_timeout_s);
        break;
      }
    }
    if (restart) {
      result.restart_ms.push_back(*restart);
    }
    if (incident) {
      result.incident_ms.push_back(*incident);
    }
  }
  // Before vigied puts the host's back: a crash test running next to the bench may have
  // rewritten it, and the crash gone to its helper.
  const std::string pattern_now = slurp(vigie::bench::CorePatternGuard::kPath);
  stopVigied(vigied);
  if (!result.failure.empty()) {
    const std::string log = slurp(dir + "/vigied.log");
    fmt::print(stderr,
               "crash_incident ({}): {}\ncore_pattern now: {}last of vigied's log ({}):\n{}\n",
               core ? "core: true" : "core: false", result.failure, pattern_now,
               dir + "/vigied.log", log.substr(log.size() > 3000 ? log.size() - 3000 : 0));
  }
  if (!options.keep && result.failure.empty()) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  } else {
    fmt::print(stderr, "work dir kept: {}\n", dir);
  }
  return result;
}

// An existing file's absolute path (the workload runs with cwd /, the pattern from anywhere).
std::optional<std::string> absolute(const std::string& path, const char* what) {
  std::error_code ec;
  const fs::path resolved = fs::canonical(path, ec);
  if (ec) {
    fmt::print(stderr, "crash_incident: {} {}: {}\n", what, path, ec.message());
    return std::nullopt;
  }
  return resolved.string();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"crash -> restart and crash -> complete incident under vigied (root)"};
  const std::string bin = fs::canonical("/proc/self/exe").parent_path().string();
  Options options{bin + "/vigied", bin + "/vigie-coredump", bin + "/crash_bigmem"};
  app.add_option("--vigied", options.vigied)->capture_default_str();
  app.add_option("--helper", options.helper)->capture_default_str();
  app.add_option("--workload", options.workload)->capture_default_str();
  app.add_option("--mb", options.megabytes)->capture_default_str();
  app.add_option("--rounds", options.rounds)->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--step-timeout", options.step_timeout_s, "Bound of one wait, seconds")
      ->capture_default_str();
  app.add_flag("--keep-work-dir", options.keep);
  CLI11_PARSE(app, argc, argv);
  for (auto [path, what] :
       {std::pair{&options.vigied, "vigied"}, std::pair{&options.helper, "helper"},
        std::pair{&options.workload, "workload"}}) {
    auto resolved = absolute(*path, what);
    if (!resolved) {
      return 1;
    }
    *path = *resolved;
  }
  if (::geteuid() != 0) {
    fmt::print(stderr, "crash_incident: needs root (vigied installs kernel.core_pattern)\n");
    return 1;
  }
  vigie::bench::CorePatternGuard guard;
  if (!guard.save()) {
    fmt::print(stderr, "crash_incident: cannot read {}\n", guard.kPath);
    return 1;
  }
  fmt::print("crash_incident: {} MB dirty, {} rounds, load {}", options.megabytes, options.rounds,
             slurp("/proc/loadavg"));
  const RunResult on = runOnce(options, true);
  const RunResult off = runOnce(options, false);
  if (slurp(guard.kPath) != guard.saved()) {
    fmt::print("warning: vigied did not put core_pattern back; the bench did\n");
  }
  guard.restore();
  fmt::print("{:<12} {:>24} {:>10} {:>24}\n", "setup", "crash->restart ms [max]", "drain ms",
             "crash->incident ms [max]");
  fmt::print("{:<12} {:>15.1f} [{:>6.1f}] {:>10.1f} {:>15.1f} [{:>6.1f}]\n", "core: true",
             median(on.restart_ms), maxOf(on.restart_ms), median(on.drain_ms),
             median(on.incident_ms), maxOf(on.incident_ms));
  fmt::print("{:<12} {:>15.1f} [{:>6.1f}] {:>10} {:>24}\n", "core: false", median(off.restart_ms),
             maxOf(off.restart_ms), "-", "-");
  fmt::print(
      "helper phases, core on (ms): drain {:.1f}, symbolize {:.1f}, compress {:.1f}, "
      "total {:.1f}\n",
      median(on.drain_ms), median(on.symbolize_ms), median(on.compress_ms), median(on.total_ms));
  const double drain = median(on.drain_ms);
  const double added = median(on.restart_ms) - median(off.restart_ms);
  fmt::print(
      "restart(core on) - restart(core off) = {:.1f} ms, drain {:.1f} ms: beyond the "
      "drain {:.1f} ms (target <= 2 ms), ratio {:.2f} (target <= 1)\n",
      added, drain, added - drain, drain > 0 ? added / (drain + 2.0) : 0.0);
  fmt::print("restart(core on) / restart(core off) = {:.2f}\n",
             median(off.restart_ms) > 0 ? median(on.restart_ms) / median(off.restart_ms) : 0.0);
  fmt::print(
      "incident complete with backtrace: median {:.0f} ms, max {:.0f} ms (target < 1000 "
      "ms): {}\n",
      median(on.incident_ms), maxOf(on.incident_ms),
      maxOf(on.incident_ms) < 1000 ? "met" : "missed");
  return on.failure.empty() && off.failure.empty() ? 0 : 1;
}
