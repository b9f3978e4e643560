#pragma once

#include <csignal>
#include <cstdint>
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
};

struct StartLimitSpec {
  uint32_t burst = 10;  // 0 turns the start limit off.
  Duration interval = 60s;
};

struct RestartSpec {
  RestartPolicyKind policy = RestartPolicyKind::kAlways;
  BackoffSpec backoff;
  StartLimitSpec limit;
};

struct StopSpec {
  int signal = SIGTERM;
  Duration timeout = 10s;
};

struct OutputSpec {
  uint64_t tail = uint64_t{64} * 1024;  // bytes kept per stream and instance.
};

struct WorkloadSpec {
  std::string name;
  std::vector<std::string> exec;                           // argv; exec[0] may be a bare name.
  std::vector<std::pair<std::string, std::string>> env;    // in file order.
  std::string cwd;                                         // empty: "/".
  RestartSpec restart;
  std::vector<int> success_exit_codes{0};
  StopSpec stop;
  OutputSpec output;
  uint32_t history = 5;  // ended instances kept per unit, with their output tails.
  SourceLocation location;  // where the entry starts.
};

struct AgentConfig {
  std::string path;
  std::vector<WorkloadSpec> workloads;
};

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

}  // namespace vigie
