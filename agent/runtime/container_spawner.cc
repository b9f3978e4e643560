#include "agent/runtime/container_spawner.h"

#include <dirent.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <charconv>
#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "agent/os/pidfd.h"
#include "agent/os/proc_stat.h"
#include "agent/os/unique_fd.h"

namespace vigie {
namespace {

std::string readText(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<pid_t> readPidFile(const std::string& path) {
  const std::string text = readText(path);
  pid_t pid = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (ec != std::errc() || pid <= 0) {
    return std::nullopt;
  }
  return pid;
}

// A runtime's own processes run outside the unit's identity and limits that only the container
// needs: as root, from "/", with its output captured only where the container's goes.
SpawnSpec runtimeCommand(const SpawnSpec& base, std::vector<std::string> argv) {
  SpawnSpec spec;
  spec.argv = std::move(argv);
  // The container's sd_notify settings are in its config.json. In the runtime's environment,
  // runc would take NOTIFY_SOCKET as its own and point the container at a proxy of its own,
  // which dies with the runtime: --detach ends it at once.
  for (const std::string& entry : base.env) {
    if (!entry.starts_with("NOTIFY_SOCKET=") && !entry.starts_with("WATCHDOG_USEC=")) {
      spec.env.push_back(entry);
    }
  }
  spec.cwd = "/";
  spec.capture_output = base.capture_output;
  spec.rlimits = base.rlimits;
  spec.oom_score_adj = base.oom_score_adj;
  spec.cgroup = base.cgroup;
  return spec;
}

// The signals tini and catatonit keep to themselves: a process gets them from its own faults
// (and abort()), so an init does not pass them on, and the kernel drops them for a PID 1 with no
// handler. A watchdog's SIGABRT must reach the workload itself.
bool initKeeps(int sig) {
  switch (sig) {
    case SIGABRT:
    case SIGSEGV:
    case SIGBUS:
    case SIGFPE:
    case SIGILL:
    case SIGTRAP:
    case SIGSYS:
    case SIGTTIN:
    case SIGTTOU:
      return true;
    default:
      return false;
  }
}

// Signals the children of `parent`'s main thread, each through a pidfd.
Status signalChildren(pid_t parent, int sig) {
  for (pid_t child : readChildren(fmt::format("/proc/{}/task/{}/children", parent, parent))) {
    UniqueFd pidfd(pidfdOpen(child, 0));
    if (pidfd && pidfdSendSignal(pidfd.get(), sig) != 0 && errno != ESRCH) {
      return Error::fromErrno(fmt::format("pidfd_send_signal({})", child));
    }
  }
  return Status::okStatus();
}

}  // namespace

std::string runtimeName(const std::string& runtime) {
  return runtime.substr(runtime.rfind('/') + 1);
}

std::string lastRuntimeError(const std::string& log_text) {
  std::string message;
  std::istringstream lines(log_text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto entry = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (entry.is_object() && entry.value("level", "") == "error" && entry.contains("msg") &&
        entry["msg"].is_string()) {
      message = entry["msg"].get<std::string>();
    }
  }
  return message;
}

// One container instance: first the runtime's process (launching), then the container's.
class ContainerProcess final : public Process {
 public:
  ContainerProcess(ContainerSpawner& spawner, ContainerLaunch launch, std::string id,
                   ExitCallback on_exit)
      : spawner_(spawner),
        launch_(std::move(launch)),
        id_(std::move(id)),
        pid_file_(launch_.work_dir + "/" + id_ + ".pid"),
        log_file_(launch_.work_dir + "/" + id_ + ".log"),
        on_exit_(std::move(on_exit)) {
    spawner_.launching_.insert(this);
  }

  ~ContainerProcess() override {
    spawner_.launching_.erase(this);
    if (!deleted_) {
      // Gone before its container (the unit went away): nothing of it may stay behind.
      if (container_ && !container_->exited()) {
        container_->signalGroup(SIGKILL).ok();
      } else if (!container_ && launcher_ && !launcher_->exited()) {
        launcher_->signal(SIGKILL).ok();  // a runtime that went on would start an orphan.
      }
      cleanUp();
    }
  }

  void setLauncher(ProcessPtr launcher) { launcher_ = std::move(launcher); }
  const std::string& pidFile() const { return pid_file_; }

  // The container's pid, once the runtime has written it (cached: read on orphan checks only).
  std::optional<pid_t> containerPid() {
    if (!container_pid_) {
      container_pid_ = readPidFile(pid_file_);
    }
    return container_pid_;
  }

  pid_t pid() const override { return container_ ? container_->pid() : launcher_->pid(); }
  uint64_t startTicks() const override {
    return container_ ? container_->startTicks() : launcher_->startTicks();
  }
  bool exited() const override { return finished_; }

  Status signal(int sig) override {
    if (container_ && launch_.init && initKeeps(sig) && !container_->exited()) {
      return signalChildren(container_->pid(), sig);
    }
    if (container_) {
      return container_->signal(sig);
    }
    remember(sig);
    return Status::okStatus();
  }
  Status signalGroup(int sig) override {
    if (container_) {
      return container_->signalGroup(sig);
    }
    remember(sig);
    return Status::okStatus();
  }

  int takeStdout() override { return launcher_->takeStdout(); }
  int takeStderr() override { return launcher_->takeStderr(); }
  bool launching() const override { return !container_ && !finished_; }
  void onRunning(std::function<void()> on_running) override { on_running_ = std::move(on_running); }

  void onLauncherExit(const ExitStatus& status) {
    spawner_.launching_.erase(this);
    std::string error;
    if (status.kind == ExitStatus::Kind::kExited && status.code == 0) {
      if (auto pid = containerPid()) {
        auto adopted =
            spawner_.inner_.adopt(*pid, [this](const ExitStatus& end) { onContainerExit(end); });
        if (adopted) {
          container_ = std::move(*adopted);
          ::unlink(pid_file_.c_str());
          if (pending_signal_ != 0) {
            container_->signalGroup(pending_signal_).ok();
          }
          if (auto on_running = std::move(on_running_)) {
            on_running();
          }
          return;
        }
        error = fmt::format("{} started container {} but its process {} is gone: {}",
                            runtimeName(launch_.runtime), id_, *pid, adopted.error().message);
      } else {
        error = fmt::format("{} started container {} but wrote no pid to {}",
                            runtimeName(launch_.runtime), id_, pid_file_);
      }
    } else {
      std::string reason = lastRuntimeError(readText(log_file_));
      if (reason.empty()) {
        reason = "exited with " + status.describe();
      }
      // "runc run failed: invalid rootfs: ..." says "run failed" twice once we prefix it.
      const std::string name = runtimeName(launch_.runtime);
      if (const std::string echo = name + " run failed: "; reason.rfind(echo, 0) == 0) {
        reason.erase(0, echo.size());
      }
      error = name + ": " + reason;
    }
    ExitStatus failed = status;
    failed.runtime_error = std::move(error);
    finish(failed);
  }

 private:
  void remember(int sig) {
    // Sent once the container runs; a SIGKILL is never replaced by a milder signal.
    if (pending_signal_ != SIGKILL) {
      pending_signal_ = sig;
    }
    if (sig == SIGKILL && launcher_ && !launcher_->exited()) {
      // A stop gave up waiting (stop.timeout): a runtime that hangs (runc waits for a READY=1
      // it proxies, an unresponsive image store) must not hold the stop forever. The launch
      // then fails, and the container is deleted.
      launcher_->signal(SIGKILL).ok();
    }
  }

  void onContainerExit(const ExitStatus& status) { finish(status); }

  void finish(const ExitStatus& status) {
    finished_ = true;
    cleanUp();
    // The callback may destroy this object: run it from the stack, and touch nothing after.
    auto on_exit = std::move(on_exit_);
    on_exit(status);
  }

  void cleanUp() {
    deleted_ = true;
    ::unlink(pid_file_.c_str());
    ::unlink(log_file_.c_str());
    spawner_.deleteContainer(launch_.runtime, launch_.state_root, id_);
  }

  ContainerSpawner& spawner_;
  ContainerLaunch launch_;
  std::string id_;
  std::string pid_file_;
  std::string log_file_;
  ExitCallback on_exit_;
  std::function<void()> on_running_;
  ProcessPtr launcher_;
  ProcessPtr container_;
  std::optional<pid_t> container_pid_;
  int pending_signal_ = 0;
  bool finished_ = false;
  bool deleted_ = false;
};

ContainerSpawner::ContainerSpawner(ProcessSpawner& inner, std::string nonce)
    : inner_(inner), nonce_(std::move(nonce)) {}

ContainerSpawner::~ContainerSpawner() = default;

Result<ProcessPtr> ContainerSpawner::spawn(const SpawnSpec& spec, Process::ExitCallback on_exit) {
  if (!spec.container) {
    return inner_.spawn(spec, std::move(on_exit));
  }
  const ContainerLaunch& launch = *spec.container;
  std::string id = fmt::format("{}-{}-{}", launch.name, nonce_, ++serial_);
  auto process = std::make_unique<ContainerProcess>(*this, launch, id, std::move(on_exit));
  ::unlink(process->pidFile().c_str());
  SpawnSpec command = runtimeCommand(
      spec, {launch.runtime, "--root", launch.state_root, "--log",
             launch.work_dir + "/" + id + ".log", "--log-format", "json", "run", "--detach",
             "--pid-file", process->pidFile(), "--bundle", launch.bundle, id});
  ContainerProcess* raw = process.get();
  auto launcher =
      inner_.spawn(command, [raw](const ExitStatus& status) { raw->onLauncherExit(status); });
  if (!launcher) {
    return Error{runtimeName(launch.runtime) + ": " + launcher.error().message,
                 launcher.error().errno_value};
  }
  process->setLauncher(std::move(*launcher));
  return ProcessPtr(std::move(process));
}

bool ContainerSpawner::isTracked(pid_t pid) const {
  if (inner_.isTracked(pid)) {
    return true;
  }
  for (ContainerProcess* process : launching_) {
    if (process->containerPid() == pid) {
      return true;
    }
  }
  return false;
}

void ContainerSpawner::deleteContainer(const std::string& runtime, const std::string& state_root,
                                       const std::string& id) {
  SpawnSpec spec;
  spec.argv = {runtime, "--root", state_root, "delete", "--force", id};
  spec.cwd = "/";
  spec.capture_output = false;
  const uint64_t serial = ++delete_serial_;
  auto deleting = inner_.spawn(spec, [this, serial, id](const ExitStatus& status) {
    if (status.kind != ExitStatus::Kind::kExited || status.code != 0) {
      spdlog::warn("container {}: delete {}", id, status.describe());
    }
    deletes_.erase(serial);  // destroys the process that runs this callback: see LinuxProcess.
    if (deletes_.empty() && on_idle_) {
      auto on_idle = std::move(on_idle_);
      on_idle_ = nullptr;
      on_idle();
    }
  });
  if (!deleting) {
    spdlog::warn("container {}: cannot run {} delete: {}", id, runtime, deleting.error().message);
    return;
  }
  deletes_.emplace(serial, std::move(*deleting));
}

void ContainerSpawner::whenIdle(std::function<void()> on_idle) {
  if (deletes_.empty()) {
    on_idle();
    return;
  }
  on_idle_ = std::move(on_idle);
}

int ContainerSpawner::deleteLeftovers(const std::string& runtime, const std::string& state_root) {
  DIR* dir = ::opendir(state_root.c_str());
  if (dir == nullptr) {
    return 0;
  }
  int count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == ".." || entry->d_type != DT_DIR) {
      continue;
    }
    spdlog::warn("container {} was left by a previous vigied: deleting it", name);
    deleteContainer(runtime, state_root, name);
    ++count;
  }
  ::closedir(dir);
  return count;
}

}  // namespace vigie
