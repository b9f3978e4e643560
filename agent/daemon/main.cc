// vigied: wires the agent together. Everything with behaviour lives in its own module.
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <random>

#include "agent/api/proc_usage.h"
#include "agent/api/service/agent_service.h"
#include "agent/api/service/event_hub.h"
#include "agent/api/service/loop_backend.h"
#include "agent/api/service/node_info.h"
#include "agent/api/service/output_hub.h"
#include "agent/api/service/output_tee.h"
#include "agent/api/snapshot_publisher.h"
#include "agent/api/snapshot_updater.h"
#include "agent/api/transport/api_server.h"
#include "agent/cgroup/cgroup_setup.h"
#include "agent/cgroup/layout.h"
#include "agent/crash/crash_capture.h"
#include "agent/daemon/unit_logger.h"
#include "agent/event/event_loop.h"
#include "agent/health/notify_socket.h"
#include "agent/logs/agent_logging.h"
#include "agent/logs/journal_sink.h"
#include "agent/logs/log_router.h"
#include "agent/metrics/agent_metrics.h"
#include "agent/metrics/loop_stall_knob.h"
#include "agent/notify/libsystemd_notifier.h"
#include "agent/notify/status_observer.h"
#include "agent/notify/systemd_notifier.h"
#include "agent/os/linux_spawner.h"
#include "agent/os/orphans.h"
#include "agent/os/process_hygiene.h"
#include "agent/runtime/container_runtimes.h"
#include "agent/runtime/container_spawner.h"
#include "agent/supervisor/supervisor.h"
#include "vigie/config.h"

extern char** environ;

namespace vigie {
namespace {

constexpr const char* kDefaultConfig = "/etc/vigie/vigie.yaml";
constexpr const char* kDefaultStateDir = "/var/lib/vigie";
constexpr const char* kDefaultSocket = "/run/vigie/vigie.sock";
constexpr Duration kOrphanReapDelay = 50ms;
// How long a stopping vigied waits for its containers' deletions (docs/containers.md).
constexpr Duration kContainerDeleteGrace = 10s;

struct Options {
  std::string config = kDefaultConfig;
  std::string state_dir = kDefaultStateDir;
  std::string socket = kDefaultSocket;
  bool socket_given = false;  // --socket overrides api.socket.
  std::string check_config;   // "" with the flag given: check `config`.
  bool check_only = false;
  std::string log_level = "info";
  std::string log_target = "auto";
  std::string metrics_listen;  // overrides metrics.listen when given ("" disables).
  bool metrics_listen_given = false;
  std::string stall_loop_fifo_for_test;  // hidden: see agent/metrics/loop_stall_knob.h.
  std::string core_pattern;              // overrides crash.core_pattern when given.
  std::string crash_kill_at_for_test;    // hidden: see agent/crash/incident_store.h.
  std::string cgroups_mode;              // overrides cgroups.mode when given.
  std::string cgroup_parent;             // overrides cgroups.parent when given.
  bool cgroup_legacy_for_test = false;   // hidden: only the v1 hierarchies of a hybrid host.
};

// The `cgroups:` section with the command line's overrides applied.
CgroupsSpec cgroupsSpec(const AgentConfig& config, const Options& options) {
  CgroupsSpec spec = config.cgroups;
  if (options.cgroups_mode == "auto") {
    spec.mode = CgroupsSpec::Mode::kAuto;
  } else if (options.cgroups_mode == "on") {
    spec.mode = CgroupsSpec::Mode::kOn;
  } else if (options.cgroups_mode == "off") {
    spec.mode = CgroupsSpec::Mode::kOff;
  }
  if (!options.cgroup_parent.empty()) {
    spec.parent = options.cgroup_parent;
  }
  return spec;
}

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

v1::NodeInfo nodeInfo(v1::NodeInfo info, const std::string& unit_cgroups) {
  info.set_unit_cgroups(unit_cgroups);
  return info;
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

  // OCI containers: the runtime runs them and exits; their processes are adopted through pidfds.
  // The nonce keeps container ids unique across agent restarts.
  ContainerSpawner container_spawner(
      **spawner, fmt::format("{:x}", std::chrono::duration_cast<std::chrono::milliseconds>(
                                         dispatcher.wallNow().time_since_epoch())
                                         .count()));
  LinuxContainerRuntimes container_runtimes(options.state_dir, detectCgroupLayout("/sys/fs/cgroup"),
                                            container_spawner);
  container_runtimes.deleteLeftovers();

  // Units' cgroups. Declared before the supervisor: units remove their cgroups when they go,
  // then the manager removes the units' parent.
  const CgroupsSpec cgroups_spec = cgroupsSpec(loaded.config, options);
  CgroupManagerOptions cgroup_options;
  cgroup_options.warn = [](const std::string& text) { spdlog::warn("{}", text); };
  if (options.cgroup_legacy_for_test) {
    cgroup_options.layout = CgroupLayout::kLegacy;
  }
  auto cgroups = setUpCgroups(dispatcher, cgroups_spec, cgroup_options);
  if (!cgroups) {
    spdlog::critical("{}", cgroups.error().message);
    return 1;
  }
  if (cgroups->enabled || cgroups_spec.mode == CgroupsSpec::Mode::kOff) {
    spdlog::info("cgroups: {}", cgroups->summary);
  } else {
    spdlog::warn("cgroups: {}", cgroups->summary);
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
  // The units' output also goes to the API's ReadOutput followers, through a tee in front of the
  // router. Declared before the supervisor too.
  OutputHub output_hub;
  OutputTee output_tee(&log_router, output_hub);

  // Unit events travel a chain of observers, each passing every event on to the next:
  // metrics -> snapshot updater -> status (sd_notify STATUS=) -> logger. A module that needs the
  // events adds its link in front, and the supervisor reports to the first link.
  UnitLogger logger;
  StatusObserver observer(logger, notifier);
  // The API's view of the units: republished after each loop turn with changes.
  SnapshotPublisher publisher(newAgentEpoch());
  SnapshotUpdater snapshot_updater(observer, dispatcher, publisher);
  // Prometheus /metrics and /healthz, served by civetweb's threads from thread-safe counters.
  // Bound before any unit starts, so that a taken port fails the start cleanly.
  MetricsSpec metrics_spec = loaded.config.metrics;
  if (options.metrics_listen_given) {
    metrics_spec.listen = options.metrics_listen;
  }
  AgentMetrics metrics(dispatcher, snapshot_updater, metrics_spec);
  if (auto bound = metrics.start(); !bound) {
    spdlog::critical("cannot start the metrics endpoint: {}", bound.error().message);
    return 1;
  } else if (bound->empty()) {
    spdlog::info("metrics endpoint disabled");
  } else {
    spdlog::info("metrics on http://{} (/metrics, /healthz)", *bound);
  }
  // Crash capture: incidents for abnormal ends (a link in front of metrics, which also hears of
  // crashes and captures through crashEvents()), the core_pattern, the helper's intake and the
  // incident store under <state>/crash.
  CrashSpec crash_spec = loaded.config.crash;
  if (!options.core_pattern.empty()) {
    crash_spec.core_pattern = options.core_pattern == "leave" ? CrashSpec::CorePattern::kLeave
                                                              : CrashSpec::CorePattern::kInstall;
  }
  crash::CrashCapture crash_capture({dispatcher, metrics.unitObserver(), options.state_dir,
                                     crash_spec, crash::kKernelCorePattern,
                                     options.crash_kill_at_for_test, &metrics.crashEvents()});
  // sd_notify for workloads (notify: true): one datagram socket beside the API socket
  // (/run/vigie/notify), whose datagrams go to the instance that sent them.
  NotifyRouter notify_router;
  HealthServices health{.probes = nullptr, .notify = &notify_router, .notify_socket = {}};
  const std::filesystem::path notify_path =
      std::filesystem::path(options.socket_given ? options.socket : loaded.config.api.socket)
          .parent_path() /
      "notify";
  std::filesystem::create_directories(notify_path.parent_path(), ec);
  auto notify_socket = NotifySocket::open(dispatcher, notify_path.string(), notify_router);
  if (notify_socket) {
    health.notify_socket = (*notify_socket)->path();
  } else {
    spdlog::warn("no sd_notify socket for workloads ({}): units with notify: true cannot start",
                 notify_socket.error().message);
  }
  Supervisor supervisor(
      dispatcher, container_spawner, crash_capture.unitObserver(),
      [&] { return uniform(random_engine); }, Supervisor::workloadBaseEnv(environ), &output_tee,
      cgroups->manager.get(), health, &container_runtimes);
  observer.track(supervisor);
  snapshot_updater.track(supervisor);
  // Crash incidents join the API's snapshot (ListCrashes, GetCrash, Heartbeat) and its events.
  snapshot_updater.trackCrashes(crash_capture.index());
  metrics.track(supervisor);

  // The gRPC API. Reads come from the published snapshots; commands and output reads go through
  // the loop-side backend; events reach WatchEvents through the snapshot updater, stamped with
  // the snapshot that includes them. Config reloads (SIGHUP and ReloadConfig) go through the
  // backend too.
  ApiSpec api_spec = loaded.config.api;
  if (options.socket_given) {
    api_spec.socket = options.socket;
  }
  EventHub event_hub(api_spec.limits.event_queue, &metrics.apiCalls());
  LoopBackend api_backend(
      LoopBackend::Deps{dispatcher, supervisor, snapshot_updater, publisher, output_hub,
                        &event_hub},
      options.config, [&](const AgentConfig& config) {
        log_router.setStorage(config.storage);
        if (cgroupsSpec(config, options) != cgroups_spec) {
          spdlog::warn("cgroups: changes to the cgroups section apply when vigied restarts");
        }
        observer.refresh();  // a reload can drop stopped units without any state change.
        metrics.syncUnits();
      });
  snapshot_updater.setEventSink(&api_backend);
  ProcUsageReader usage(options.state_dir);
  const std::unique_ptr<AccessPolicy> access = makeAccessPolicy(api_spec);
  AgentService api_service(AgentService::Deps{publisher, dispatcher, api_backend, event_hub,
                                              *access, &metrics.apiCalls(), &usage},
                           nodeInfo(readNodeInfo(publisher.current()->epoch, dispatcher.wallNow()),
                                    cgroups->enabled ? cgroups->summary : std::string()),
                           api_spec.limits);

  TimerPtr orphan_timer = dispatcher.createTimer([&] {
    const int reaped = reapOrphans([&](pid_t pid) { return container_spawner.isTracked(pid); });
    if (reaped > 0) {
      spdlog::debug("reaped {} orphaned process(es)", reaped);
    }
  });

  TimerPtr delete_deadline = dispatcher.createTimer([&] {
    spdlog::warn("{} container deletion(s) still running: exiting without them",
                 container_spawner.pendingDeletes());
    dispatcher.exit();
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
      api_backend.beginShutdown();
      spdlog::info("{} received: stopping {} unit(s)", signalName(sig), supervisor.units().size());
      // Containers are deleted after their exit: wait for those deletions too.
      supervisor.stopAll([&] {
        // A runtime's delete that hangs must not keep vigied from exiting: what it leaves is
        // deleted by the next vigied at start.
        delete_deadline->enableAt(dispatcher.monotonicNow() + kContainerDeleteGrace);
        container_spawner.whenIdle([&] { dispatcher.exit(); });
      });
    } else if (sig == SIGHUP && !stopping) {
      // A valid config is applied to the running set; an invalid one is rejected whole, its
      // errors logged, and nothing running is touched (the same as ReloadConfig).
      v1::ReloadConfigResponse reloaded;
      api_backend.reloadConfig(&reloaded);
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
  std::unique_ptr<LoopStallKnob> stall_knob;
  if (!options.stall_loop_fifo_for_test.empty()) {
    auto knob = LoopStallKnob::open(dispatcher, options.stall_loop_fifo_for_test);
    if (!knob) {
      spdlog::critical("--stall-loop-fifo-for-test: {}", knob.error().message);
      return 1;
    }
    stall_knob = std::move(*knob);
  }

  supervisor.load(loaded.config);
  crash_capture.start();  // before "vigied started": the pattern is in place once it is logged.
  // Serving before the units start: a socket that cannot be bound fails the start cleanly.
  if (const auto parent = std::filesystem::path(api_spec.socket).parent_path(); !parent.empty()) {
    std::filesystem::create_directories(parent, ec);
  }
  auto api_server = ApiServer::start(api_spec, {&api_service});
  if (!api_server) {
    spdlog::critical("cannot serve the API on {}: {}", api_spec.socket, api_server.error().message);
    return 1;
  }
  spdlog::info("API on unix:{}", api_spec.socket);
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
  crash_capture.stop();  // a clean shutdown gives the host its core_pattern back.
  // The loop is done. The last turn's changes (the units' final stops) are published and sent
  // to the watchers; then what still waits for the loop is answered, the streams end, and the
  // server stops (it finds no call left to wait for).
  snapshot_updater.publishNow();
  api_service.shutdown();
  (*api_server)->shutdown();
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
  auto* socket =
      app.add_option("--socket", options.socket, "API socket path (overrides api.socket)")
          ->capture_default_str();
  auto* check = app.add_option("--check-config", options.check_config,
                               "Check a config file (default: the --config file) and exit: 0 "
                               "when valid, else 1 with every error as file:line:col: message")
                    ->expected(0, 1);
  app.add_option("--log-level", options.log_level, "trace, debug, info, warn or error")
      ->capture_default_str();
  app.add_option("--log-target", options.log_target,
                 "auto (journald when its socket exists, else stderr), journal or stderr")
      ->capture_default_str();
  auto* metrics_listen =
      app.add_option("--metrics-listen", options.metrics_listen,
                     "Address of /metrics and /healthz, IP:PORT (port 0: any free port; \"\": "
                     "none). Overrides metrics.listen (default 127.0.0.1:9464)");
  app.add_option("--stall-loop-fifo-for-test", options.stall_loop_fifo_for_test)->group("");
  app.add_option("--core-pattern", options.core_pattern,
                 "install or leave: overrides crash.core_pattern (tests run with leave)")
      ->check(CLI::IsMember({"install", "leave"}));
  app.add_option("--crash-kill-at-for-test", options.crash_kill_at_for_test)->group("");
  app.add_option("--cgroups", options.cgroups_mode,
                 "auto, on or off: overrides cgroups.mode (units' cgroups; default auto)")
      ->check(CLI::IsMember({"auto", "on", "off"}));
  app.add_option("--cgroup-parent", options.cgroup_parent,
                 "Overrides cgroups.parent: where units' cgroups go (default vigie)")
      ->check([](const std::string& parent) {
        vigie::Status valid = vigie::checkCgroupParent(parent);
        return valid ? std::string() : valid.error().message;
      });
  app.add_flag("--cgroup-legacy-for-test", options.cgroup_legacy_for_test)->group("");
  CLI11_PARSE(app, argc, argv);
  options.metrics_listen_given = metrics_listen->count() > 0;
  options.socket_given = socket->count() > 0;

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
