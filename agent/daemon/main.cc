// vigied: wires the agent together. Everything with behaviour lives in its own module.
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <filesystem>
#include <random>

#include "agent/api/snapshot_publisher.h"
#include "agent/api/snapshot_updater.h"
#include "agent/daemon/unit_logger.h"
#include "agent/event/event_loop.h"
#include "agent/logs/agent_logging.h"
#include "agent/logs/journal_sink.h"
#include "agent/logs/log_router.h"
#include "agent/notify/libsystemd_notifier.h"
#include "agent/notify/status_observer.h"
#include "agent/notify/systemd_notifier.h"
#include "agent/os/linux_spawner.h"
#include "agent/os/orphans.h"
#include "agent/os/process_hygiene.h"
#include "agent/supervisor/supervisor.h"
#include "vigie/config.h"

extern char** environ;

namespace vigie {
namespace {

constexpr const char* kDefaultConfig = "/etc/vigie/vigie.yaml";
constexpr const char* kDefaultStateDir = "/var/lib/vigie";
constexpr const char* kDefaultSocket = "/run/vigie/vigie.sock";
constexpr Duration kOrphanReapDelay = 50ms;

struct Options {
  std::string config = kDefaultConfig;
  std::string state_dir = kDefaultStateDir;
  std::string socket = kDefaultSocket;
  std::string check_config;  // "" with the flag given: check `config`.
  bool check_only = false;
  std::string log_level = "info";
  std::string log_target = "auto";
};

void printErrors(const ConfigLoadResult& loaded) {
  for (const auto& error : loaded.errors) {
    fmt::print(stderr, "{}\n", error.format());
  }
}

int checkConfig(const std::string& path) {
  const ConfigLoadResult loaded = loadConfigFile(path);
  if (!loaded.ok()) {
    printErrors(loaded);
    return 1;
  }
  fmt::print("{}: ok, {} workload(s)\n", path, loaded.config.workloads.size());
  return 0;
}

// SIGHUP: a valid config is applied to the running set; an invalid one is rejected whole, its
// errors logged, and nothing running is touched.
std::optional<StorageSpec> reloadConfig(const std::string& path, Supervisor& supervisor) {
  const ConfigLoadResult loaded = loadConfigFile(path);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) {
      spdlog::error("reload: {}", error.format());
    }
    spdlog::error("reload of {} rejected ({} error(s)); the running units are unchanged", path,
                  loaded.errors.size());
    return std::nullopt;
  }
  const Supervisor::ReloadSummary summary = supervisor.reload(loaded.config);
  spdlog::info("reloaded {}: {}", path, summary.describe());
  return loaded.config.storage;
}

// The signals the loop takes through its signalfd. Blocked before any thread exists (the log
// writer, gRPC...): a thread with them unblocked would take a SIGTERM's default action and kill
// the agent without stopping its units.
sigset_t agentSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) {
    sigaddset(&signals, sig);
  }
  return signals;
}

int runAgent(const Options& options) {
  const sigset_t signals = agentSignals();
  ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  if (auto prepared = prepareAgentProcess(); !prepared) {
    spdlog::critical("cannot prepare the agent process: {}", prepared.error().message);
    return 1;
  }
  if (auto subreaper = becomeSubreaper(); !subreaper) {
    spdlog::warn("{}: orphaned grandchildren will be reaped by PID 1 instead",
                 subreaper.error().message);
  }
  const KernelFeatures features = probeKernelFeatures();
  spdlog::info("{}", features.summary());
  if (!features.pidfd) {
    spdlog::critical("this kernel has no pidfd support; vigie needs Linux 5.4 or newer");
    return 1;
  }

  const ConfigLoadResult loaded = loadConfigFile(options.config);
  if (!loaded.ok()) {
    printErrors(loaded);
    spdlog::critical("invalid configuration {}: {} error(s)", options.config, loaded.errors.size());
    return 1;
  }
  std::error_code ec;
  std::filesystem::create_directories(options.state_dir, ec);
  if (ec) {
    spdlog::critical("cannot create state dir {}: {}", options.state_dir, ec.message());
    return 1;
  }

  auto loop = EventLoop::create();
  if (!loop) {
    spdlog::critical("cannot create the event loop: {}", loop.error().message);
    return 1;
  }
  EventLoop& dispatcher = **loop;
  auto spawner = LinuxProcessSpawner::create(dispatcher);
  if (!spawner) {
    spdlog::critical("cannot create the process spawner: {}", spawner.error().message);
    return 1;
  }

  std::mt19937_64 random_engine{std::random_device{}()};
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  // sd_notify for the agent itself (a no-op without NOTIFY_SOCKET). Unit events reach the logger
  // through the StatusObserver, which also keeps STATUS= current.
  LibsystemdNotifier systemd;
  SystemdNotifier notifier(dispatcher, systemd, [](const Error& error) {
    spdlog::warn("{} (further sd_notify failures are not logged until one succeeds)",
                 error.message);
  });
  // Units' output to rotating files and journald, written by the router's own thread. Declared
  // before the supervisor so that it outlives every unit.
  SdJournalSink journal;
  LogRouter log_router(options.state_dir, loaded.config.storage, journal, journaldAvailable());

  // Unit events travel a chain of observers, each passing every event on to the next:
  // snapshot updater -> status (sd_notify STATUS=) -> logger. A module that needs the events
  // adds its link in front, and the supervisor reports to the first link.
  UnitLogger logger;
  StatusObserver observer(logger, notifier);
  // The API's view of the units: republished after each loop turn with changes.
  SnapshotPublisher publisher(newAgentEpoch());
  SnapshotUpdater snapshot_updater(observer, dispatcher, publisher);
  Supervisor supervisor(
      dispatcher, **spawner, snapshot_updater, [&] { return uniform(random_engine); },
      Supervisor::workloadBaseEnv(environ), &log_router);
  observer.track(supervisor);
  snapshot_updater.track(supervisor);

  TimerPtr orphan_timer = dispatcher.createTimer([&] {
    const int reaped = reapOrphans([&](pid_t pid) { return (*spawner)->isTracked(pid); });
    if (reaped > 0) {
      spdlog::debug("reaped {} orphaned process(es)", reaped);
    }
  });

  bool stopping = false;
  auto watched = dispatcher.watchSignals(signals, [&](const signalfd_siginfo& info) {
    const int sig = static_cast<int>(info.ssi_signo);
    if (sig == SIGTERM || sig == SIGINT) {
      if (stopping) {
        return;
      }
      stopping = true;
      notifier.stopping();
      spdlog::info("{} received: stopping {} unit(s)", signalName(sig), supervisor.units().size());
      supervisor.stopAll([&] { dispatcher.exit(); });
    } else if (sig == SIGHUP && !stopping) {
      if (auto storage = reloadConfig(options.config, supervisor)) {
        log_router.setStorage(*storage);
      }
      observer.refresh();  // a reload can drop stopped units without any state change.
      snapshot_updater.requestPublish();
    }
    if (sig == SIGCHLD && !orphan_timer->enabled()) {
      // Every exit raises SIGCHLD, tracked ones included: reap orphans a little later, off the
      // restart path and once per burst of exits.
      orphan_timer->enableAt(dispatcher.monotonicNow() + kOrphanReapDelay);
    }
  });
  if (!watched) {
    spdlog::critical("cannot watch signals: {}", watched.error().message);
    return 1;
  }

  supervisor.load(loaded.config);
  spdlog::info("vigied started: {} unit(s) from {}, state in {}", loaded.config.workloads.size(),
               options.config, options.state_dir);
  supervisor.startAll();
  snapshot_updater.requestPublish();
  notifier.ready(observer.summary());
  if (auto watchdog = notifier.startWatchdog(); !watchdog) {
    spdlog::warn("systemd watchdog not pinged: {}", watchdog.error().message);
  } else if (watchdog->has_value()) {
    spdlog::info("systemd watchdog: WATCHDOG=1 every {}", formatDuration(**watchdog));
  }
  dispatcher.run();
  spdlog::info("vigied stopped");
  return 0;
}

}  // namespace
}  // namespace vigie

int main(int argc, char** argv) {
  vigie::Options options;
  CLI::App app{"vigied: the vigie node agent. Supervises the workloads declared in its config."};
  app.add_option("--config,-c", options.config, "Config file")->capture_default_str();
  app.add_option("--state-dir", options.state_dir, "State directory")->capture_default_str();
  app.add_option("--socket", options.socket, "API socket path")->capture_default_str();
  auto* check = app.add_option("--check-config", options.check_config,
                               "Check a config file (default: the --config file) and exit: 0 "
                               "when valid, else 1 with every error as file:line:col: message")
                    ->expected(0, 1);
  app.add_option("--log-level", options.log_level, "trace, debug, info, warn or error")
      ->capture_default_str();
  app.add_option("--log-target", options.log_target,
                 "auto (journald when its socket exists, else stderr), journal or stderr")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto backend = vigie::parseLogTarget(options.log_target);
  if (!backend) {
    fmt::print(stderr, "vigied: --log-target: {}\n", backend.error().message);
    return 2;
  }
  vigie::setupAgentLogging(spdlog::level::from_str(options.log_level), *backend);
  if (check->count() > 0) {
    return vigie::checkConfig(options.check_config.empty() ? options.config : options.check_config);
  }
  return vigie::runAgent(options);
}
