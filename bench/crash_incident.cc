// crash_incident (root): what crash capture costs a restart under vigied, and how long a
// complete incident takes. vigied supervises crash_bigmem (N MB dirtied, then SIGSEGV) with
// its core_pattern installed and the build's vigie-coredump, once with `core: true` and once
// with `core: false`. Per round:
//   restart = start of instance i+1 - fault of instance i (both stamped by the workload);
//   drain   = the helper's drain time (report.pb timings), what the crashed process waited for;
//   incident = fault -> incident.json with status complete seen in <state>/crash.
// Targets: restart <= drain + 2 ms; incident within 1 s. The host's core_pattern is put back
// at the end (vigied restores it on SIGTERM; the bench checks and restores it too).
// A benchmark: it exits 0 whatever the figures are, non-zero only when a run failed.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <google/protobuf/util/time_util.h>
#include <CLI/CLI.hpp>

#include "agent/coredump/capture_id.h"
#include "agent/crash/durable_files.h"
#include "agent/crash/incident_store.h"
#include "vigie/v1/crash.pb.h"

namespace fs = std::filesystem;

namespace {

constexpr const char* kPattern = "/proc/sys/kernel/core_pattern";

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

void spit(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

struct Stamp {
  int64_t ns;
  int pid;
};

std::vector<Stamp> stamps(const std::string& file, const std::string& what) {
  std::vector<Stamp> out;
  std::istringstream in(slurp(file));
  std::string kind;
  Stamp stamp{};
  while (in >> kind >> stamp.ns >> stamp.pid) {
    if (kind == what) {
      out.push_back(stamp);
    }
  }
  return out;
}

double median(std::vector<double> values) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

struct RunResult {
  std::vector<double> restart_ms;
  std::vector<double> drain_ms;
  std::vector<double> incident_ms;
  bool ok = false;
};

RunResult runOnce(const std::string& vigied, const std::string& helper, const std::string& bigmem,
                  int megabytes, int rounds, bool core) {
  RunResult result;
  char pattern_dir[] = "/tmp/crash_incident.XXXXXX";
  if (::mkdtemp(pattern_dir) == nullptr) {
    return result;
  }
  const std::string dir = pattern_dir;
  ::symlink(helper.c_str(), (dir + "/vc").c_str());
  const std::string stamp_file = dir + "/stamps";
  spit(dir + "/vigie.yaml",
       fmt::format("workloads:\n"
                   "  - name: big\n"
                   "    exec: [{}, '{}', {}]\n"
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
                   bigmem, megabytes, stamp_file, core ? "true" : "false", dir, dir, dir));
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    const std::string config = dir + "/vigie.yaml";
    const std::string state = dir + "/state";
    const std::string socket = dir + "/v.sock";
    ::execl(vigied.c_str(), vigied.c_str(), "--config", config.c_str(), "--state-dir",
            state.c_str(), "--socket", socket.c_str(), "--metrics-listen", "", nullptr);
    ::_exit(127);
  }
  std::map<int, int64_t> complete_at;  // pid -> when its complete incident was seen
  const std::string store = dir + "/state/crash";
  const int64_t deadline = monoNs() + int64_t{60} * rounds * 1000000000;
  while (monoNs() < deadline) {
    const auto faults = stamps(stamp_file, "fault");
    if (core) {
      std::error_code ec;
      for (fs::directory_iterator it(store, ec), end; !ec && it != end; it.increment(ec)) {
        if (!vigie::coredump::isCaptureId(it->path().filename().string())) {
          continue;
        }
        auto incident = vigie::crash::incidentFromJson(
            slurp(it->path().string() + "/" + vigie::crash::kIncidentFile));
        if (incident && incident->status() == vigie::v1::INCIDENT_STATUS_COMPLETE &&
            !complete_at.count(incident->pid())) {
          complete_at[incident->pid()] = monoNs();
          vigie::v1::CaptureReport report;
          if (report.ParseFromString(
                  slurp(it->path().string() + "/" + vigie::crash::kReportFile))) {
            result.drain_ms.push_back(
                google::protobuf::util::TimeUtil::DurationToMicroseconds(report.timings().drain()) /
                1000.0);
          }
        }
      }
    }
    const bool restarts_done = static_cast<int>(faults.size()) > rounds;
    const bool incidents_done = !core || static_cast<int>(complete_at.size()) >= rounds;
    if (restarts_done && incidents_done) {
      result.ok = true;
      break;
    }
    ::usleep(2000);  // the bench polls; the agent does not.
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const auto starts = stamps(stamp_file, "start");
  const auto faults = stamps(stamp_file, "fault");
  for (int i = 0;
       i < rounds && i + 1 < static_cast<int>(starts.size()) && i < static_cast<int>(faults.size());
       ++i) {
    result.restart_ms.push_back((starts[i + 1].ns - faults[i].ns) / 1e6);
    if (auto it = complete_at.find(faults[i].pid); it != complete_at.end()) {
      result.incident_ms.push_back((it->second - faults[i].ns) / 1e6);
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"crash -> restart and crash -> complete incident under vigied (root)"};
  const std::string bin = fs::path(argv[0]).parent_path().string();
  std::string vigied = bin + "/vigied";
  std::string helper = bin + "/vigie-coredump";
  std::string bigmem = bin + "/crash_bigmem";
  int megabytes = 256;
  int rounds = 3;
  app.add_option("--vigied", vigied)->capture_default_str();
  app.add_option("--helper", helper)->capture_default_str();
  app.add_option("--workload", bigmem)->capture_default_str();
  app.add_option("--mb", megabytes)->capture_default_str();
  app.add_option("--rounds", rounds)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const std::string saved = slurp(kPattern);
  const RunResult on = runOnce(vigied, helper, bigmem, megabytes, rounds, true);
  const RunResult off = runOnce(vigied, helper, bigmem, megabytes, rounds, false);
  if (slurp(kPattern) != saved) {
    spit(kPattern, saved);
    fmt::print("warning: core_pattern was not restored by vigied; the bench put it back\n");
  }
  fmt::print("crash_incident: {} MB dirty, {} rounds (medians; max in brackets)\n", megabytes,
             rounds);
  auto maxOf = [](const std::vector<double>& v) {
    return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end());
  };
  fmt::print("{:<12} {:>18} {:>10} {:>20}\n", "setup", "crash->restart ms", "drain ms",
             "crash->incident ms");
  fmt::print("{:<12} {:>9.1f} [{:>6.1f}] {:>10.1f} {:>11.1f} [{:>6.1f}]\n", "core: true",
             median(on.restart_ms), maxOf(on.restart_ms), median(on.drain_ms),
             median(on.incident_ms), maxOf(on.incident_ms));
  fmt::print("{:<12} {:>9.1f} [{:>6.1f}] {:>10} {:>20}\n", "core: false", median(off.restart_ms),
             maxOf(off.restart_ms), "-", "-");
  const double drain = median(on.drain_ms);
  fmt::print("restart(core on) / (drain + 2 ms) = {:.2f} (target <= 1)\n",
             drain > 0 ? median(on.restart_ms) / (drain + 2.0) : 0.0);
  fmt::print("restart(core on) / restart(core off) = {:.1f}\n",
             median(off.restart_ms) > 0 ? median(on.restart_ms) / median(off.restart_ms) : 0.0);
  fmt::print("incident complete: median {:.0f} ms (target < 1000 ms)\n", median(on.incident_ms));
  return on.ok && off.ok ? 0 : 1;
}
