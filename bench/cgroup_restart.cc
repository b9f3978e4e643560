// cgroup_restart: what a unit's cgroup adds to a restart, measured apart from everything else.
//
// One crash loop of bench_crasher, in this process: a real event loop, the real spawner and the
// real cgroup manager (as root). Restarts alternate between the plain path (reap, spawn) and the
// cgroup path vigied takes (reap, the instance's stats, kill-all, the next instance's baselines,
// then a spawn placed in the unit's cgroups: clone3(CLONE_INTO_CGROUP) and/or v1 cgroup.procs
// writes in the child). Alternating one by one puts both paths under the same machine load, so
// their difference is the cgroup cost even on a busy host. Latency i is start_ns[i+1] -
// exit_ns[i], both taken by bench_crasher itself (see crasher.c and record.h).
//
// A benchmark: it exits 0 whatever the figures are, non-zero only when it could not measure.

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "agent/cgroup/cgroup_setup.h"
#include "agent/event/event_loop.h"
#include "agent/os/linux_spawner.h"
#include "record.h"

namespace vigie {
namespace {

constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kTargetNs = kNsPerMs / 2;  // the bound on the median.
constexpr uint32_t kSpareSlots = 16;

struct Options {
  std::string crasher;
  int restarts = 400;
  bool legacy = false;  // only the v1 hierarchies of a hybrid host.
};

int64_t nowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000 + ts.tv_nsec;
}

double toMs(int64_t ns) {
  return static_cast<double>(ns) / static_cast<double>(kNsPerMs);
}

int64_t nearestRank(const std::vector<int64_t>& sorted, size_t percent) {
  size_t rank = (percent * sorted.size() + 99) / 100;
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

// The record file bench_crasher writes into, mapped here too.
class Record {
 public:
  Record(const std::string& path, uint32_t runs) {
    const uint32_t slots = runs + kSpareSlots;
    length_ = sizeof(BenchRecordHeader) + size_t{slots} * sizeof(BenchRecordSlot);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(length_)) != 0) {
      return;
    }
    void* map = ::mmap(nullptr, length_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) {
      return;
    }
    header_ = static_cast<BenchRecordHeader*>(map);
    slots_ = reinterpret_cast<BenchRecordSlot*>(header_ + 1);
    header_->magic = BENCH_RECORD_MAGIC;
    header_->version = BENCH_RECORD_VERSION;
    header_->runs = runs;
    header_->slots = slots;
    header_->idle_deadline_ns = nowNs() + int64_t{600} * 1'000'000'000;
  }
  ~Record() {
    if (header_ != nullptr) {
      ::munmap(header_, length_);
    }
  }
  Record(const Record&) = delete;
  Record& operator=(const Record&) = delete;

  bool ok() const { return header_ != nullptr; }
  uint64_t started() const {
    return std::atomic_ref<uint64_t>(header_->counter).load(std::memory_order_acquire);
  }
  int64_t startNs(uint64_t i) const {
    return std::atomic_ref<int64_t>(slots_[i].start_ns).load(std::memory_order_acquire);
  }
  int64_t exitNs(uint64_t i) const {
    return std::atomic_ref<int64_t>(slots_[i].exit_ns).load(std::memory_order_acquire);
  }

 private:
  size_t length_ = 0;
  BenchRecordHeader* header_ = nullptr;
  BenchRecordSlot* slots_ = nullptr;
};

struct Column {
  std::vector<int64_t> samples;
  void print(const char* name) {
    std::sort(samples.begin(), samples.end());
    fmt::print("  {:<16} n {:>4}  min {:>7.3f}  median {:>7.3f}  p99 {:>7.3f}  (ms)\n", name,
               samples.size(), toMs(samples.front()), toMs(nearestRank(samples, 50)),
               toMs(nearestRank(samples, 99)));
  }
  int64_t median() const { return nearestRank(samples, 50); }
};

int run(const Options& options) {
  if (::geteuid() != 0) {
    fmt::print(stderr, "cgroup_restart: needs root (it creates cgroups)\n");
    return 1;
  }
  const std::string work = fmt::format("/tmp/cgroup_restart.{}", ::getpid());
  std::filesystem::create_directories(work);
  const auto runs = static_cast<uint32_t>(options.restarts);
  Record record(work + "/record.dat", runs);
  if (!record.ok()) {
    fmt::print(stderr, "cgroup_restart: cannot create the record file in {}\n", work);
    return 1;
  }
  auto loop = EventLoop::create();
  if (!loop) {
    fmt::print(stderr, "cgroup_restart: {}\n", loop.error().message);
    return 1;
  }
  auto spawner = LinuxProcessSpawner::create(**loop);
  if (!spawner) {
    fmt::print(stderr, "cgroup_restart: {}\n", spawner.error().message);
    return 1;
  }
  CgroupsSpec spec;
  spec.mode = CgroupsSpec::Mode::kOn;
  spec.parent = fmt::format("vigie-bench-{}", ::getpid());
  CgroupManagerOptions manager_options;
  if (options.legacy) {
    manager_options.layout = CgroupLayout::kLegacy;
  }
  auto cgroups = setUpCgroups(**loop, spec, manager_options);
  if (!cgroups) {
    fmt::print(stderr, "cgroup_restart: {}\n", cgroups.error().message);
    return 1;
  }
  ResourcesSpec resources;
  resources.memory_max = uint64_t{1} << 30;
  resources.cpu_weight = 100;
  resources.pids_max = 10000;
  auto unit = cgroups->manager->createUnit("crasher", resources);
  if (!unit || !*unit) {
    fmt::print(stderr, "cgroup_restart: {}\n",
               unit ? "no cgroup for the unit" : unit.error().message);
    return 1;
  }
  UnitCgroup& cgroup = **unit;

  SpawnSpec plain;
  plain.argv = {options.crasher, work + "/record.dat"};
  plain.capture_output = false;
  SpawnSpec placed = plain;
  placed.cgroup = cgroup.placement();

  // Restart i (from instance i to instance i + 1) takes the cgroup path when i is odd: the
  // ended instance's stats and kill-all, then the next one's baselines and a placed spawn.
  std::vector<ProcessPtr> processes;
  uint64_t instance = 0;
  std::string failure;
  std::function<void(bool)> spawnNext;
  auto onExit = [&](const ExitStatus&) {
    const bool with_cgroup = instance % 2 == 1;
    if (with_cgroup) {
      cgroup.endInstance();
      cgroup.killAll(nullptr);
    }
    ++instance;
    if (instance <= runs) {
      spawnNext(with_cgroup);
    }
  };
  spawnNext = [&](bool with_cgroup) {
    if (with_cgroup) {
      cgroup.beginInstance();
    }
    auto process = (*spawner)->spawn(with_cgroup ? placed : plain, onExit);
    if (!process) {
      failure = process.error().message;
      return;
    }
    processes.push_back(std::move(*process));
  };

  fmt::print(
      "cgroup_restart: {} restarts of bench_crasher, alternating without and with the "
      "unit's cgroups\n  cgroups: {}\n",
      runs, cgroups->summary);
  spawnNext(false);
  const int64_t deadline = nowNs() + int64_t{300} * 1'000'000'000;
  while (failure.empty() && record.started() < runs + 1 && nowNs() < deadline) {
    (*loop)->runOnce(std::chrono::milliseconds(100));
  }
  // The last instance idles: end it, and wait until it is reaped.
  if (!processes.empty()) {
    processes.back()->signal(SIGKILL).ok();
    while (!processes.back()->exited() && nowNs() < deadline) {
      (*loop)->runOnce(std::chrono::milliseconds(100));
    }
  }
  std::filesystem::remove_all(work);
  if (!failure.empty()) {
    fmt::print(stderr, "cgroup_restart: spawn failed: {}\n", failure);
    return 1;
  }
  if (record.started() < runs + 1) {
    fmt::print(stderr, "cgroup_restart: timed out after {} starts\n", record.started());
    return 1;
  }
  Column without;
  Column with;
  for (uint64_t i = 0; i < runs; ++i) {
    const int64_t latency = record.startNs(i + 1) - record.exitNs(i);
    if (record.exitNs(i) > 0 && latency > 0) {
      (i % 2 == 1 ? with : without).samples.push_back(latency);
    }
  }
  if (without.samples.empty() || with.samples.empty()) {
    fmt::print(stderr, "cgroup_restart: no usable sample\n");
    return 1;
  }
  without.print("without cgroups");
  with.print("with cgroups");
  const int64_t cost = with.median() - without.median();
  fmt::print("  cost: {:+.3f} ms on the median -> {} the +{:.1f} ms target\n", toMs(cost),
             cost <= kTargetNs ? "within" : "OUTSIDE", toMs(kTargetNs));
  return 0;
}

std::string besideSelf(const std::string& name) {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? name : (self.parent_path() / name).string();
}

}  // namespace
}  // namespace vigie

int main(int argc, char** argv) {
  vigie::Options options;
  options.crasher = vigie::besideSelf("bench_crasher");
  CLI::App app{
      "What a unit's cgroup adds to a restart: alternating restarts without and with "
      "the cgroup path vigied takes, in one crash loop (root)."};
  app.add_option("--crasher", options.crasher, "workload (default: bench_crasher next to this)");
  app.add_option("--restarts", options.restarts, "restarts, half of them with cgroups")
      ->check(CLI::Range(20, 100000));
  app.add_flag("--legacy", options.legacy, "use only the v1 hierarchies of a hybrid host");
  CLI11_PARSE(app, argc, argv);
  ::signal(SIGPIPE, SIG_IGN);
  return vigie::run(options);
}
