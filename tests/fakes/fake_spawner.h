#pragma once

#include <csignal>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "vigie/dispatcher.h"
#include "vigie/process.h"

namespace vigie::testing {

// A process that exists only in the test: it records the signals it gets and "exits" when the
// test calls FakeSpawner::exitLatest().
class FakeProcess final : public Process {
 public:
  // `signal_log` (optional) outlives the process: it keeps (pid, signal) of every signal().
  FakeProcess(pid_t pid, ExitCallback on_exit,
              std::vector<std::pair<pid_t, int>>* signal_log = nullptr)
      : pid_(pid), on_exit_(std::move(on_exit)), signal_log_(signal_log) {}

  pid_t pid() const override { return pid_; }
  uint64_t startTicks() const override { return 1000 + static_cast<uint64_t>(pid_); }
  bool exited() const override { return exited_; }
  Status signal(int sig) override {
    signals.push_back(sig);
    if (signal_log_ != nullptr) {
      signal_log_->emplace_back(pid_, sig);
    }
    return Status::okStatus();
  }
  Status signalGroup(int sig) override {
    group_signals.push_back(sig);
    return Status::okStatus();
  }
  int takeStdout() override { return -1; }
  int takeStderr() override { return -1; }

  void exit(const ExitStatus& status) {
    exited_ = true;
    auto on_exit = std::move(on_exit_);
    on_exit(status);
  }

  std::vector<int> signals;
  std::vector<int> group_signals;

 private:
  pid_t pid_;
  ExitCallback on_exit_;
  std::vector<std::pair<pid_t, int>>* signal_log_;
  bool exited_ = false;
};

class FakeSpawner final : public ProcessSpawner {
 public:
  explicit FakeSpawner(Dispatcher& dispatcher) : dispatcher_(dispatcher) {}

  Result<ProcessPtr> spawn(const SpawnSpec& spec, Process::ExitCallback on_exit) override {
    ++spawn_calls;
    last_spec = spec;
    if (fail_spawns > 0) {
      --fail_spawns;
      return Error{"exec " + spec.argv.front() + ": No such file or directory", ENOENT};
    }
    auto process = std::make_unique<FakeProcess>(next_pid_++, std::move(on_exit), &signal_log);
    latest = process.get();
    spawned.push_back(process.get());
    return ProcessPtr(std::move(process));
  }

  // An adopted process joins `spawned` like a started one (no output pipes either way).
  Result<ProcessPtr> adopt(pid_t pid, Process::ExitCallback on_exit) override {
    ++adopt_calls;
    auto process = std::make_unique<FakeProcess>(pid, std::move(on_exit));
    latest = process.get();
    spawned.push_back(process.get());
    return ProcessPtr(std::move(process));
  }

  bool isTracked(pid_t pid) const override {
    for (const FakeProcess* p : spawned) {
      if (p->pid() == pid) {
        return true;
      }
    }
    return false;
  }

  // Ends a process the way waitid would report it, at the dispatcher's current time.
  void exitProcess(FakeProcess* process, ExitStatus status) {
    status.at_mono = dispatcher_.monotonicNow();
    status.at_wall = dispatcher_.wallNow();
    if (process == latest) {
      latest = nullptr;
    }
    process->exit(status);
  }
  void exitLatest(ExitStatus status) { exitProcess(latest, status); }
  void exitLatestWithCode(int code) {
    ExitStatus status;
    status.kind = ExitStatus::Kind::kExited;
    status.code = code;
    exitLatest(status);
  }
  void killLatest(int sig, bool core = false) {
    ExitStatus status;
    status.kind = core ? ExitStatus::Kind::kDumped : ExitStatus::Kind::kKilled;
    status.signal = sig;
    exitLatest(status);
  }

  int spawn_calls = 0;
  std::vector<std::pair<pid_t, int>> signal_log;  // every spawned process's signal(), in order.
  int adopt_calls = 0;
  int fail_spawns = 0;  // the next N spawns fail like a missing binary.
  FakeProcess* latest = nullptr;
  std::vector<FakeProcess*> spawned;  // in spawn order; valid while their instance is kept.
  std::optional<SpawnSpec> last_spec;

 private:
  Dispatcher& dispatcher_;
  pid_t next_pid_ = 100;
};

}  // namespace vigie::testing
