#include "agent/cli/unit_details.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "agent/cli/human.h"
#include "agent/cli/table.h"
#include "agent/cli/unit_words.h"
#include "vigie/config.h"

namespace vigie::cli {
namespace {

constexpr size_t kLabelWidth = 15;

void appendField(std::string& out, std::string_view label, std::string_view value) {
  out += fmt::format("{:<{}}{}\n", std::string(label) + ":", kLabelWidth, value);
}

std::string stateLine(const v1::Unit& unit, WallTime now, bool color) {
  std::string line = styled(stateWithHealth(unit), stateStyle(unit.state()), color);
  if (unit.pid() > 0) {
    line += fmt::format(", pid {}", unit.pid());
  }
  const v1::Instance* current = currentInstance(unit);
  if (current != nullptr && current->has_start_time()) {
    line += ", up " + humanDuration(std::max<Duration>(Duration::zero(),
                                                       now - fromProto(current->start_time())));
  }
  if (unit.stopped_by_operator()) {
    line += " (stopped by an operator: stays stopped until started)";
  }
  return line;
}

std::string exitCell(const v1::Instance& instance, WallTime now) {
  if (!instance.has_exit()) {
    return "running";
  }
  std::string text = exitReason(instance.exit());
  if (instance.exit().has_time()) {
    text += ", " + humanAgo(fromProto(instance.exit().time()), now);
  }
  return text;
}

Style exitStyle(const v1::Instance& instance) {
  if (!instance.has_exit()) {
    return Style::kGood;
  }
  return instance.exit().success() ? Style::kPlain : Style::kBad;
}

// Probe output on one line: newlines and tabs become spaces, trailing blanks go.
std::string oneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') {
      c = ' ';
    }
  }
  while (!text.empty() && text.back() == ' ') {
    text.pop_back();
  }
  return text;
}

// "memory peak 31.9 MiB, CPU 1.2s, 1 OOM kill": what the host could tell for one instance.
std::string cgroupUsageText(const v1::CgroupUsage& usage) {
  std::vector<std::string> parts;
  if (usage.has_memory_peak_bytes()) {
    parts.push_back("memory peak " + humanBytes(usage.memory_peak_bytes()));
  }
  if (usage.has_cpu_time()) {
    parts.push_back("CPU " + humanDuration(fromProto(usage.cpu_time())));
  }
  if (usage.has_oom_kills()) {
    parts.push_back(
        fmt::format("{} OOM kill{}", usage.oom_kills(), usage.oom_kills() == 1 ? "" : "s"));
  }
  std::string text;
  for (const std::string& part : parts) {
    text += (text.empty() ? "" : ", ") + part;
  }
  return text.empty() ? "-" : text;
}

std::string durationCell(bool present, const google::protobuf::Duration& duration) {
  return present ? humanDuration(fromProto(duration)) : "-";
}

void appendInstances(std::string& out, const v1::Unit& unit, WallTime now, bool color) {
  if (unit.instances_size() == 0) {
    out += "Instances:   none yet\n";
    return;
  }
  out += "Instances (oldest first):\n";
  Table table({"ID", "PID", "STARTED", "RAN", "EXIT", "USER CPU", "SYS CPU", "MAX RSS"});
  for (const v1::Instance& instance : unit.instances()) {
    const bool ended = instance.has_exit();
    const v1::ResourceUsage& usage = instance.exit().usage();
    const bool measured = ended && instance.exit().has_usage();
    std::string ran = "-";
    if (ended && instance.exit().has_runtime()) {
      ran = humanDuration(fromProto(instance.exit().runtime()));
    } else if (!ended && instance.has_start_time()) {
      ran = humanDuration(
          std::max<Duration>(Duration::zero(), now - fromProto(instance.start_time())));
    }
    table.addRow({
        {std::to_string(instance.id())},
        {instance.pid() > 0 ? std::to_string(instance.pid()) : "-"},
        {instance.has_start_time() ? localTime(fromProto(instance.start_time())) : "-"},
        {ran},
        {exitCell(instance, now), exitStyle(instance)},
        {durationCell(measured && usage.has_user_cpu(), usage.user_cpu())},
        {durationCell(measured && usage.has_system_cpu(), usage.system_cpu())},
        {measured && usage.max_rss_bytes() > 0 ? humanBytes(usage.max_rss_bytes()) : "-"},
    });
  }
  out += table.render(color, 2);
  // What each instance's cgroup saw, for units with one.
  for (const v1::Instance& instance : unit.instances()) {
    if (instance.has_exit() && instance.exit().has_cgroup()) {
      out += fmt::format("  instance {} cgroup: {}\n", instance.id(),
                         cgroupUsageText(instance.exit().cgroup()));
    }
  }
  // Why the agent ended an instance itself, and what its probe last said.
  for (const v1::Instance& instance : unit.instances()) {
    if (!instance.has_exit() || instance.exit().reason_detail().empty()) {
      continue;
    }
    out += fmt::format("  instance {} ended for {}: {}\n", instance.id(),
                       exitReasonName(instance.exit().reason()), instance.exit().reason_detail());
    const std::string& output = instance.liveness().last_failure_output();
    if (instance.exit().reason() == v1::EXIT_REASON_LIVENESS && !output.empty()) {
      out += "    probe output: " + oneLine(output) + "\n";
    }
  }
}

// The current instance's readiness, STATUS= and probe.
// A container unit's image and runtime, where a process unit shows exec, cwd and user.
void appendContainer(std::string& out, const v1::ContainerConfig& container) {
  if (!container.bundle().empty()) {
    appendField(out, "  bundle", container.bundle());
  } else {
    appendField(out, "  rootfs",
                container.rootfs() + (container.readonly() ? " (read-only)" : " (writable)"));
    appendField(
        out, "  args",
        shellJoin(std::vector<std::string>(container.args().begin(), container.args().end())));
    appendField(out, "  network", container.host_network() ? "the host's" : "its own namespace");
  }
  appendField(out, "  runtime",
              container.runtime().empty() ? "(the first that works here)" : container.runtime());
  appendField(out, "  init",
              container.init() ? "yes (tini or catatonit is PID 1)" : "no (the workload is PID 1)");
}

void appendHealth(std::string& out, const v1::Unit& unit, WallTime now) {
  const v1::Instance* current = currentInstance(unit);
  if (current == nullptr) {
    return;
  }
  if (!current->notify_status().empty()) {
    appendField(out, "Status", current->notify_status());
  }
  if (!current->has_liveness()) {
    return;
  }
  const v1::ProbeStatus& probe = current->liveness();
  std::string text;
  switch (probe.state()) {
    case v1::PROBE_STATE_PASSING:
      text = "passing (" + probe.last_status() + ")";
      break;
    case v1::PROBE_STATE_FAILING:
      text = fmt::format("failing {}/{} ({})", probe.consecutive_failures(),
                         probe.failure_threshold(), probe.last_failure());
      break;
    default:
      text = "pending (no result yet)";
      break;
  }
  text += fmt::format(", {} failed run{} in this instance", probe.failures(),
                      probe.failures() == 1 ? "" : "s");
  if (probe.has_last_failure_time() && probe.state() != v1::PROBE_STATE_FAILING) {
    text += ", last failure " + probe.last_failure() + " " +
            humanAgo(fromProto(probe.last_failure_time()), now);
  }
  appendField(out, "Liveness", text);
}

}  // namespace

std::string shellJoin(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& arg : argv) {
    if (!out.empty()) {
      out += ' ';
    }
    const bool plain = !arg.empty() && std::all_of(arg.begin(), arg.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
             std::string_view("-_./=:,+@%").find(c) != std::string_view::npos;
    });
    if (plain) {
      out += arg;
      continue;
    }
    out += '\'';
    for (char c : arg) {
      out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    out += '\'';
  }
  return out;
}

std::string renderUnitDetails(const v1::GetUnitResponse& response, WallTime now, bool color) {
  const v1::Unit& unit = response.unit();
  std::string out;
  appendField(out, "Unit", unit.name());
  appendField(out, "State", stateLine(unit, now, color));
  const std::string next = nextStartSummary(unit, now);
  if (next != "-") {
    appendField(out, "Next start", next);
  }
  appendField(out, "Restarts",
              fmt::format("{} since the agent started, {} in the current run of failures",
                          unit.total_restarts(), unit.restart_count()));
  appendField(out, "Failed starts", std::to_string(unit.failed_starts()));
  appendHealth(out, unit, now);

  if (response.has_config()) {
    const v1::UnitConfig& config = response.config();
    out += "Config:\n";
    if (config.has_container()) {
      appendContainer(out, config.container());
    } else {
      appendField(out, "  exec",
                  shellJoin(std::vector<std::string>(config.exec().begin(), config.exec().end())));
      appendField(out, "  cwd", config.cwd().empty() ? "/" : config.cwd());
      appendField(out, "  user", config.user().empty() ? "(the agent's user)" : config.user());
      appendField(out, "  group",
                  config.group().empty() ? "(the user's primary group)" : config.group());
    }
    appendField(out, "  restart", restartPolicyName(config.restart_policy()));
    if (config.notify()) {
      appendField(out, "  notify", "yes (starting until READY=1)");
    }
    if (config.has_watchdog()) {
      appendField(out, "  watchdog", formatDuration(fromProto(config.watchdog())));
    }
    if (config.has_liveness()) {
      appendField(out, "  liveness", livenessProbeSummary(config.liveness()));
    }
    if (config.has_source() && !config.source().file().empty()) {
      appendField(out, "  declared",
                  fmt::format("{}:{}:{}", config.source().file(), config.source().line(),
                              config.source().column()));
    }
  }
  appendInstances(out, unit, now, color);
  return out;
}

}  // namespace vigie::cli
