// vigiectl fleet: the reference control-plane poller (docs/fleet.md).
#include "agent/cli/fleet_command.h"

#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "agent/cli/exit_codes.h"
#include "agent/cli/fleet_channels.h"
#include "agent/cli/fleet_poller.h"
#include "agent/cli/fleet_table.h"
#include "agent/cli/fleet_targets.h"
#include "vigie/config.h"

namespace vigie::cli {
namespace {

constexpr Duration kMinInterval = 100ms;
constexpr Duration kMaxDefaultTimeout = 5s;

struct FleetOptions {
  std::string targets;
  std::string interval = "2s";
  std::string timeout;  // default: half the interval, at most 5s
  bool once = false;
  uint32_t count = 0;  // rounds; 0: until interrupted
  uint32_t down_after = 3;
  uint32_t usage_every = 5;
  std::string output = "table";
  FleetTlsFiles tls;
};

struct Schedule {
  Duration interval{};
  Duration timeout{};
};

int usageError(const std::string& message) {
  fmt::print(stderr, "vigiectl fleet: {}\n", message);
  return kExitUsage;
}

Result<Schedule> parseSchedule(const FleetOptions& options) {
  Schedule schedule;
  auto interval = parseDuration(options.interval);
  if (!interval) {
    return Error{"--interval: " + interval.error().message};
  }
  if (*interval < kMinInterval) {
    return Error{"--interval must be at least " + formatDuration(kMinInterval)};
  }
  schedule.interval = *interval;
  if (options.timeout.empty()) {
    schedule.timeout = std::min<Duration>(schedule.interval / 2, kMaxDefaultTimeout);
    return schedule;
  }
  auto timeout = parseDuration(options.timeout);
  if (!timeout) {
    return Error{"--timeout: " + timeout.error().message};
  }
  if (*timeout <= Duration::zero()) {
    return Error{"--timeout must be more than 0s"};
  }
  // A round must be over before the next one starts; --once has no next round.
  if (!options.once && *timeout >= schedule.interval) {
    return Error{"--timeout (" + formatDuration(*timeout) + ") must be shorter than --interval (" +
                 formatDuration(schedule.interval) + ")"};
  }
  schedule.timeout = *timeout;
  return schedule;
}

// vigiectl's own flags (-o, --timeout, the TLS ones) may come before `fleet`, where the main
// command parses them; given after `fleet`, they are ours and win.
void takeParentOptions(const CLI::App& parent, const CLI::App& fleet, FleetOptions& options) {
  auto take = [&](std::string& value, const char* name) {
    const CLI::Option* ours = fleet.get_option_no_throw(name);
    const CLI::Option* theirs = parent.get_option_no_throw(name);
    if ((ours == nullptr || ours->count() == 0) && theirs != nullptr && theirs->count() > 0) {
      value = theirs->as<std::string>();
    }
  };
  take(options.output, "--output");
  take(options.timeout, "--timeout");
  take(options.tls.cert, "--tls-cert");
  take(options.tls.key, "--tls-key");
  take(options.tls.ca, "--tls-ca");
  take(options.tls.server_name, "--tls-server-name");
}

// False when stdout is gone (a closed pipe with SIGPIPE ignored, a full disk): no use polling on.
bool printRound(const FleetPoller& poller, const FleetOptions& options, const Schedule& schedule,
                bool continuous, bool tty) {
  const MonoTime now = std::chrono::steady_clock::now();
  const WallTime wall = std::chrono::system_clock::now();
  std::string out;
  if (options.output == "json") {
    out = renderFleetJson(poller.nodes(), poller.rounds(), now, wall) + "\n";
  } else {
    if (continuous) {
      if (tty) {
        out += "\x1b[H\x1b[2J";  // like watch(1): each round replaces the previous one
      } else if (poller.rounds() > 1) {
        out += "\n";
      }
      out +=
          fmt::format("round {}, every {}\n", poller.rounds(), formatDuration(schedule.interval));
    }
    out += renderFleetTable(poller.nodes(), now);
  }
  const bool written = std::fputs(out.c_str(), stdout) >= 0;
  return std::fflush(stdout) == 0 && written;
}

int runFleet(FleetOptions options, const CLI::App& parent, const CLI::App& fleet) {
  takeParentOptions(parent, fleet, options);
  if (options.output != "table" && options.output != "json") {
    return usageError("-o must be table or json");
  }
  auto schedule = parseSchedule(options);
  if (!schedule) {
    return usageError(schedule.error().message);
  }
  const FleetTargetsParse parsed = loadFleetTargets(options.targets);
  if (!parsed.ok()) {
    for (const std::string& error : parsed.errors) {
      fmt::print(stderr, "vigiectl fleet: {}\n", error);
    }
    return kExitUsage;
  }
  auto channels = FleetChannelFactory::create(parsed.targets, options.tls, schedule->interval);
  if (!channels) {
    return usageError(channels.error().message);
  }

  FleetPollerOptions poller_options;
  poller_options.call_timeout = schedule->timeout;
  // One poll, so one miss is all a node can get.
  poller_options.down_after = options.once ? 1 : options.down_after;
  poller_options.usage_every = options.usage_every;
  FleetPoller poller(parsed.targets, *channels, poller_options);

  const uint32_t rounds = options.once ? 1 : options.count;
  const bool continuous = rounds != 1;
  const bool tty = ::isatty(STDOUT_FILENO) == 1;
  MonoTime next = std::chrono::steady_clock::now();
  while (true) {
    poller.pollRound();
    const bool last = rounds != 0 && poller.rounds() >= rounds;
    if (last) {
      poller.finishCalls();  // the nodes' descriptions (GetNode), for the output
    }
    if (!printRound(poller, options, *schedule, continuous, tty)) {
      fmt::print(stderr, "vigiectl fleet: cannot write to stdout: {}\n", std::strerror(errno));
      return kExitFailed;
    }
    if (last) {
      return fleetExitCode(summarizeFleet(poller.nodes()));
    }
    // Rounds start on a fixed beat; one that overran starts the next at once, with no burst
    // to catch up.
    next += schedule->interval;
    next = std::max(next, std::chrono::steady_clock::now());
    poller.waitUntil(next);
  }
}

}  // namespace

std::function<int()> addFleetCommand(CLI::App& app) {
  auto options = std::make_shared<FleetOptions>();
  CLI::App* fleet = app.add_subcommand(
      "fleet",
      "Poll many agents with Heartbeat diffs and print a fleet table each round (the reference "
      "control-plane poller)");
  fleet
      ->add_option("--targets", options->targets,
                   "File listing the agents, one `ADDRESS [NAME]` a line (unix:/path or "
                   "host:port)")
      ->required();
  fleet->add_option("--interval", options->interval, "Time between poll rounds")
      ->capture_default_str();
  fleet->add_option("--timeout", options->timeout,
                    "Deadline of each call (default: half the interval, at most 5s); shorter "
                    "than the interval");
  fleet->add_flag("--once", options->once,
                  "Poll once, print, and exit: 0 all up, 1 some down, 3 none reachable");
  fleet->add_option("--count", options->count, "Stop after this many rounds (default: never)")
      ->check(CLI::PositiveNumber);
  fleet
      ->add_option("--down-after", options->down_after,
                   "Missed polls in a row before a node is shown down")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  fleet
      ->add_option("--usage-every", options->usage_every,
                   "Ask each node for its load and memory on one round in this many")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  fleet->add_option("-o,--output", options->output, "table or json (one JSON object per round)")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json"}));
  fleet->add_option("--tls-cert", options->tls.cert, "Client certificate for host:port agents");
  fleet->add_option("--tls-key", options->tls.key, "Its private key");
  fleet->add_option("--tls-ca", options->tls.ca,
                    "CA of the agents' certificates (default: the system's roots)");
  fleet->add_option("--tls-server-name", options->tls.server_name,
                    "Name the agents' certificates carry, when not their host");
  return [options, &app, fleet] { return runFleet(*options, app, *fleet); };
}

}  // namespace vigie::cli
