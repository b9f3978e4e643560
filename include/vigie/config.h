#pragma once

#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vigie/result.h"
#include "vigie/time.h"

namespace vigie {

// Where a value came from, for error messages (1-based line and column).
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

enum class RestartPolicyKind { kAlways, kOnFailure, kNever };

struct BackoffSpec {
  Duration initial = 100ms;
  Duration max = 30s;          // 0 turns backoff off: every restart is immediate.
  Duration reset_after = 60s;  // uptime after which the restart count starts again.

  bool operator==(const BackoffSpec&) const = default;
};

struct StartLimitSpec {
  uint32_t burst = 10;  // 0 turns the start limit off.
  Duration interval = 60s;

  bool operator==(const StartLimitSpec&) const = default;
};

struct RestartSpec {
  RestartPolicyKind policy = RestartPolicyKind::kAlways;
  BackoffSpec backoff;
  StartLimitSpec limit;

  bool operator==(const RestartSpec&) const = default;
};

struct StopSpec {
  int signal = SIGTERM;
  Duration timeout = 10s;

  bool operator==(const StopSpec&) const = default;
};

// Rotating files under <state-dir>/logs/<unit>/: stdout.log, stdout.log.1, ... (same for stderr).
struct OutputFileSpec {
  bool enabled = true;
  uint64_t max_size = uint64_t{10} * 1024 * 1024;  // rotate when a file would grow past this.
  uint32_t max_files = 3;                          // files kept per stream, the live one included.

  bool operator==(const OutputFileSpec&) const = default;
};

struct OutputSpec {
  uint64_t tail = uint64_t{64} * 1024;  // bytes kept per stream and instance.
  OutputFileSpec file;
  bool journal = false;  // also send each line to journald (when its socket exists).

  bool operator==(const OutputSpec&) const = default;
};

// One resource limit for the workload, applied between fork and exec.
struct RlimitSpec {
  int resource = 0;   // RLIMIT_NOFILE, RLIMIT_CORE, ...
  uint64_t soft = 0;  // RLIM_INFINITY for "unlimited".
  uint64_t hard = 0;
  SourceLocation location;
};

// A workload's cgroup limits (docs/cgroups.md). Unset fields are not limited.
struct CpuMaxSpec {
  Duration quota{};         // CPU time the unit may use in each period, across all CPUs.
  Duration period = 100ms;  // 1ms..1s.

  bool operator==(const CpuMaxSpec&) const = default;
};

struct ResourcesSpec {
  std::optional<uint64_t> memory_max;   // bytes; the OOM killer acts above it.
  std::optional<uint64_t> memory_high;  // bytes; reclaim pressure above it (v1: soft limit).
  std::optional<uint32_t> cpu_weight;   // 1..10000, 100 is the default share.
  std::optional<CpuMaxSpec> cpu_max;    // unset: no quota.
  std::optional<uint64_t> pids_max;     // processes and threads, at least 1.
  // A limit this host cannot enforce (its controller is missing) is logged as a warning instead
  // of keeping the unit from starting.
  bool optional = false;

  bool anyLimit() const { return memory_max || memory_high || cpu_weight || cpu_max || pids_max; }
  bool operator==(const ResourcesSpec&) const = default;
};

// A liveness probe (docs/health.md): run every `period`, from `initial_delay` after the start;
// `failure_threshold` failures in a row end the instance with reason `liveness`.
struct ProbeSpec {
  enum class Kind { kExec, kHttp, kTcp };
  Kind kind = Kind::kTcp;
  std::vector<std::string> exec;   // kExec: argv, run with the workload's env, cwd and user.
  std::string host = "127.0.0.1";  // kHttp, kTcp: a numeric IPv4 or IPv6 address.
  uint16_t port = 0;               // kHttp, kTcp
  std::string path = "/";          // kHttp: the GET target.
  Duration period = 10s;
  Duration timeout = 1s;
  uint32_t failure_threshold = 3;
  Duration initial_delay{};

  bool operator==(const ProbeSpec&) const = default;
};

// A bind mount into a container (rootfs mode).
struct ContainerMountSpec {
  std::string source;       // absolute host path.
  std::string destination;  // absolute path inside the container.
  bool readonly = false;

  bool operator==(const ContainerMountSpec&) const = default;
};

// An OCI container workload (docs/containers.md), run by an OCI runtime. With `rootfs`, vigied
// writes the bundle's config.json from these fields; with `bundle`, the bundle's own config.json
// is used as is and only `runtime` applies.
struct ContainerSpec {
  std::string runtime;            // "runc", "crun" or an absolute path; "": first that works.
  std::string rootfs;             // absolute; exactly one of rootfs and bundle.
  std::string bundle;             // absolute; a directory holding config.json.
  std::vector<std::string> args;  // rootfs: the process's argv (required).
  std::vector<std::pair<std::string, std::string>> env;  // rootfs: after a default PATH.
  std::string cwd = "/";                                 // rootfs: inside the container.
  std::optional<uint32_t> uid;  // rootfs: numeric (names would be the container's); unset: 0.
  std::optional<uint32_t> gid;  // rootfs: unset: the uid's value, or 0.
  std::string hostname;         // rootfs: "": the unit's name.
  bool readonly = true;         // rootfs: the root filesystem is mounted read-only.
  bool host_network = false;    // rootfs: no network namespace (the host's interfaces).
  std::vector<ContainerMountSpec> mounts;  // rootfs: bind mounts, in file order.
  // rootfs: a minimal init (tini or catatonit from the host) runs as PID 1 and the workload as its
  // child, so that signals reach it and zombies are reaped.
  bool init = false;
  SourceLocation location;  // where `container:` starts.

  bool operator==(const ContainerSpec& other) const {
    return runtime == other.runtime && rootfs == other.rootfs && bundle == other.bundle &&
           args == other.args && env == other.env && cwd == other.cwd && uid == other.uid &&
           gid == other.gid && hostname == other.hostname && readonly == other.readonly &&
           host_network == other.host_network && mounts == other.mounts && init == other.init;
  }
};

struct WorkloadSpec {
  std::string name;
  std::vector<std::string> exec;                         // argv; exec[0] may be a bare name.
  std::vector<std::pair<std::string, std::string>> env;  // in file order.
  std::string cwd;                                       // empty: "/".
  std::string user;   // empty: the agent's user (root). Unknown users are config errors.
  std::string group;  // empty: the user's primary group.
  uint32_t umask = 022;
  std::vector<RlimitSpec> rlimits;   // in file order.
  std::optional<int> oom_score_adj;  // -1000..1000; unset: inherited.
  RestartSpec restart;
  std::vector<int> success_exit_codes{0};
  StopSpec stop;
  OutputSpec output;
  bool core = true;         // core dumps on a crash: RLIMIT_CORE unlimited, else 0.
  uint32_t history = 5;     // ended instances kept per unit, with their output tails.
  ResourcesSpec resources;  // cgroup limits; applied in place on reload.
  // Health (docs/health.md). The probe applies in place on reload; notify and watchdog change
  // the workload's environment, so they restart it.
  std::optional<ProbeSpec> liveness;
  bool notify = false;               // sd_notify: NOTIFY_SOCKET; starting until READY=1.
  std::optional<Duration> watchdog;  // needs notify: SIGABRT when no WATCHDOG=1 comes in time.
  // Set: the workload is an OCI container and `exec`, `env`, `cwd`, `user`, `group`, `umask`,
  // `notify` and `watchdog` are not used (the parser refuses them).
  std::optional<ContainerSpec> container;
  SourceLocation location;  // where the entry starts.
};

// The budget for everything vigie writes under its state dir (logs now, crash records later).
// When it is exceeded, the oldest rotated files go first; supervision never stops for it.
struct StorageSpec {
  uint64_t max_use = uint64_t{1} * 1024 * 1024 * 1024;  // bytes under the state dir.
  uint64_t keep_free = uint64_t{512} * 1024 * 1024;     // free bytes to leave on its filesystem.
};

// Who a TLS client is allowed to be: its certificate's identity (the subject's common name, or a
// DNS or URI subject alternative name) and what it may call.
enum class ApiRole { kRead, kAdmin };

struct ApiClientSpec {
  std::string identity;
  ApiRole role = ApiRole::kRead;
  bool operator==(const ApiClientSpec&) const = default;
};

// The optional TCP listener. TLS only, and clients must present a certificate signed by
// `client_ca` whose identity is listed in `clients`.
struct ApiTcpSpec {
  std::string listen;  // "host:port"
  std::string cert;    // PEM files
  std::string key;
  std::string client_ca;
  std::vector<ApiClientSpec> clients;
  bool operator==(const ApiTcpSpec&) const = default;
};

struct ApiLimitsSpec {
  uint64_t max_message_bytes = uint64_t{4} * 1024 * 1024;
  uint32_t max_streams = 64;    // concurrent ReadOutput and WatchEvents streams.
  uint32_t event_queue = 1024;  // events queued per WatchEvents stream before the cut.
  uint64_t output_queue_bytes = uint64_t{4} * 1024 * 1024;  // per ReadOutput follow stream.
  bool operator==(const ApiLimitsSpec&) const = default;
};

struct ApiSpec {
  std::string socket = "/run/vigie/vigie.sock";
  // Besides root, members of this group may call everything over the socket ("": root only).
  std::string socket_group;
  std::optional<ApiTcpSpec> tcp;
  ApiLimitsSpec limits;
  bool operator==(const ApiSpec&) const = default;
};

struct MetricsSpec {
  std::string listen = "127.0.0.1:9464";  // "": no HTTP endpoint.
  // /healthz answers 503 once the event loop has not turned for this long.
  Duration healthz_max_lag = std::chrono::seconds(10);
  bool operator==(const MetricsSpec&) const = default;
};

// Crash capture (docs/crash-capture.md): the core_pattern helper's settings, the incident store
// under <state>/crash and its retention.
struct CrashRetentionSpec {
  uint64_t max_use = uint64_t{1} * 1024 * 1024 * 1024;  // bytes; with max_use_percent unset.
  std::optional<uint32_t> max_use_percent;              // of the store's filesystem, 1..100.
  uint64_t keep_free = uint64_t{1} * 1024 * 1024 * 1024;
  Duration max_age = std::chrono::hours(24 * 30);  // 0: no age limit.
  uint32_t cores_per_fingerprint = 3;              // full bundles kept (first and latest first).
  bool operator==(const CrashRetentionSpec&) const = default;
};

struct CrashSpec {
  enum class CorePattern { kInstall, kLeave };
  CorePattern core_pattern = CorePattern::kInstall;
  std::string helper = "/usr/libexec/vigie/vigie-coredump";
  std::string helper_config = "/run/vigie/coredump.json";  // written by vigied for the helper.
  std::string intake_socket = "/run/vigie/coredump.sock";
  std::string spool_dir;  // empty: <state>/crash/spool.
  bool forward_previous = false;
  bool reinstall_on_drift = false;
  Duration drift_check_interval = std::chrono::seconds(30);
  uint64_t core_size_max = uint64_t{2} << 30;
  Duration capture_timeout = std::chrono::seconds(60);
  // A pending incident whose report has not come by then is marked timed-out.
  Duration report_timeout = std::chrono::seconds(90);
  std::vector<std::string> redact_env;   // empty: the helper's defaults.
  std::vector<std::string> redact_args;  // empty: the helper's defaults.
  uint32_t rate_burst = 5;
  Duration rate_interval = std::chrono::minutes(10);
  CrashRetentionSpec retention;
  bool operator==(const CrashSpec&) const = default;
};

// Where and whether units get cgroups (docs/cgroups.md).
struct CgroupsSpec {
  // kAuto: use cgroups when the host lets vigied create them, else warn and run without (units
  // with `resources` then fail to start unless their limits are optional). kOn: vigied does not
  // start without them. kOff: never (units with `resources` fail to start unless optional).
  enum class Mode { kAuto, kOn, kOff };
  Mode mode = Mode::kAuto;
  // Units' cgroups go under <parent>/<unit>. Relative: under vigied's own cgroup in each
  // hierarchy (under systemd, the delegated subtree); absolute: from the hierarchy's root.
  std::string parent = "vigie";

  bool operator==(const CgroupsSpec&) const = default;
};

struct AgentConfig {
  std::string path;
  std::vector<std::string> included_files;  // drop-ins read, in order (resolved paths).
  std::vector<WorkloadSpec> workloads;
  StorageSpec storage;
  ApiSpec api;
  MetricsSpec metrics;
  CrashSpec crash;
  CgroupsSpec cgroups;
};

// The fields of a workload that define its process: a change in any of them restarts the unit on
// reload; any other change (restart policy, stop, tail, history, resources, liveness) applies in
// place.
bool processDefinitionDiffers(const WorkloadSpec& a, const WorkloadSpec& b);

// A configuration error, printed as "file:line:col: message".
struct ConfigError {
  SourceLocation location;
  std::string message;

  std::string format() const;
};

// The outcome of loading a config: the config when it is valid, or every error found.
struct ConfigLoadResult {
  AgentConfig config;  // meaningful only when errors is empty.
  std::vector<ConfigError> errors;

  bool ok() const { return errors.empty(); }
};

// Parses and validates a config file; on success every default is filled in.
ConfigLoadResult loadConfigFile(const std::string& path);
ConfigLoadResult loadConfigString(const std::string& text, const std::string& path);

// Value parsers shared by the config and the command line.
Result<Duration> parseDuration(const std::string& text);  // "250ms", "10s", "1m", "0"
Result<uint64_t> parseSize(const std::string& text);      // "64KiB", "10MiB", "512"
Result<int> parseSignal(const std::string& text);         // "SIGTERM", "TERM", "15"
std::string signalName(int signal);                       // 15 -> "SIGTERM"
std::string formatDuration(Duration d);                   // 1500ms -> "1.5s"
Result<uint32_t> parseUmask(const std::string& text);     // octal: "0027", "027", "22"
std::string rlimitName(int resource);                     // RLIMIT_NOFILE -> "nofile"
// A CPU quota: "50ms/100ms" (quota/period), "50ms" (per 100ms) or a number of CPUs ("0.5",
// "2", per 100ms). "max" is no quota (nullopt).
Result<std::optional<CpuMaxSpec>> parseCpuMax(const std::string& text);
// A cgroup path for units' cgroups: "vigie", "infra/vigie" or "/vigie.slice" (not "/", "..").
Status checkCgroupParent(const std::string& parent);

// A TCP address to listen on: "127.0.0.1:9464", "0.0.0.0:7443", "[::1]:7443", "localhost:80".
// Port 0 asks the kernel for a free port.
struct ListenAddress {
  std::string host;  // IPv6 without its brackets.
  uint16_t port = 0;

  std::string format() const;  // "host:port", IPv6 in brackets: what gRPC takes.
  bool operator==(const ListenAddress&) const = default;
};
Result<ListenAddress> parseListenAddress(const std::string& text);

}  // namespace vigie
