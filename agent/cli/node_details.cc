#include "agent/cli/node_details.h"

#include <fmt/core.h>

#include <algorithm>

#include "agent/cli/human.h"

namespace vigie::cli {
namespace {

constexpr size_t kLabelWidth = 13;

void appendField(std::string& out, std::string_view label, std::string_view value) {
  out += fmt::format("{:<{}}{}\n", std::string(label) + ":", kLabelWidth, value);
}

std::string cgroupLayoutName(v1::CgroupLayout layout) {
  switch (layout) {
    case v1::CGROUP_LAYOUT_LEGACY:
      return "legacy (v1)";
    case v1::CGROUP_LAYOUT_HYBRID:
      return "hybrid (v1 controllers, v2 at /sys/fs/cgroup/unified)";
    case v1::CGROUP_LAYOUT_UNIFIED:
      return "unified (v2)";
    default:
      return "unknown";
  }
}

// "12.3% of 3.8 GiB used" style figures read best as used/total.
std::string percentUsed(uint64_t available, uint64_t total) {
  if (total == 0) {
    return "-";
  }
  const uint64_t used = total - std::min(available, total);
  return fmt::format("{:.0f}%", 100.0 * static_cast<double>(used) / static_cast<double>(total));
}

std::string pressureLine(const v1::Pressure& pressure) {
  auto averages = [](const v1::PressureLine& line) {
    return fmt::format("{:.2f} {:.2f} {:.2f}", line.avg10(), line.avg60(), line.avg300());
  };
  std::string out = "some " + averages(pressure.some());
  if (pressure.has_full()) {
    out += ", full " + averages(pressure.full());
  }
  return out;
}

// Whether cores reach vigie: the first thing to check when a crash has no core.
std::string corePatternLine(const v1::CorePatternStatus& pattern) {
  if (!pattern.managed()) {
    return "not managed by vigie (crash.core_pattern: leave): cores do not reach vigie";
  }
  if (pattern.drift()) {
    return fmt::format("DRIFT: \"{}\" replaced vigie's helper: cores no longer reach vigie",
                       pattern.current());
  }
  if (!pattern.installed()) {
    return "vigie's helper is not installed: " +
           (pattern.error().empty() ? std::string("see vigied's log") : pattern.error());
  }
  return fmt::format("vigie's helper \"{}\"", pattern.expected());
}

}  // namespace

std::string renderNode(const v1::GetNodeResponse& response, WallTime now) {
  const v1::NodeInfo& node = response.node();
  const v1::NodeUsage& usage = response.usage();
  std::string out;
  appendField(out, "Hostname", node.hostname());
  appendField(out, "Kernel",
              fmt::format("Linux {} ({}) {}", node.kernel_release(), node.architecture(),
                          node.kernel_version()));
  appendField(out, "Boot id", node.boot_id());
  if (!node.machine_id().empty()) {
    appendField(out, "Machine id", node.machine_id());
  }
  appendField(out, "Cgroups", cgroupLayoutName(node.cgroup_layout()));
  // Where units' cgroups are, as the agent logged it; "" when it runs without them.
  appendField(
      out, "Unit cgroup",
      node.unit_cgroups().empty() ? "none (the agent runs without cgroups)" : node.unit_cgroups());
  if (usage.has_uptime()) {
    appendField(out, "Uptime", humanDuration(fromProto(usage.uptime())));
  }

  std::string cpus = fmt::format("{}", node.cpu_count());
  if (usage.has_load()) {
    cpus += fmt::format(", load {:.2f} {:.2f} {:.2f}", usage.load().load1(), usage.load().load5(),
                        usage.load().load15());
  }
  appendField(out, "CPUs", cpus);

  if (usage.has_memory()) {
    const v1::MemoryUsage& memory = usage.memory();
    std::string text =
        fmt::format("{} available of {} ({} used)", humanBytes(memory.available_bytes()),
                    humanBytes(memory.total_bytes()),
                    percentUsed(memory.available_bytes(), memory.total_bytes()));
    if (memory.swap_total_bytes() > 0) {
      text += fmt::format("; swap {} free of {}", humanBytes(memory.swap_free_bytes()),
                          humanBytes(memory.swap_total_bytes()));
    } else {
      text += "; no swap";
    }
    appendField(out, "Memory", text);
  } else {
    appendField(out, "Memory", humanBytes(node.memory_total_bytes()));
  }

  if (usage.has_cpu_pressure() || usage.has_memory_pressure() || usage.has_io_pressure()) {
    out += "Pressure (% of time stalled, avg10 avg60 avg300):\n";
    if (usage.has_cpu_pressure()) {
      appendField(out, "  cpu", pressureLine(usage.cpu_pressure()));
    }
    if (usage.has_memory_pressure()) {
      appendField(out, "  memory", pressureLine(usage.memory_pressure()));
    }
    if (usage.has_io_pressure()) {
      appendField(out, "  io", pressureLine(usage.io_pressure()));
    }
  } else if (!node.psi_available()) {
    appendField(out, "Pressure", "not available (kernel without PSI)");
  }

  if (usage.has_state_disk()) {
    const v1::DiskUsage& disk = usage.state_disk();
    appendField(out, "State disk",
                fmt::format("{}: {} available of {} ({} used)", disk.path(),
                            humanBytes(disk.available_bytes()), humanBytes(disk.total_bytes()),
                            percentUsed(disk.available_bytes(), disk.total_bytes())));
  }

  std::string agent = "vigied " + (node.agent_version().empty() ? "?" : node.agent_version());
  if (node.has_agent_start_time()) {
    const WallTime started = fromProto(node.agent_start_time());
    agent += fmt::format(", up {} (since {})",
                         humanDuration(std::max<Duration>(Duration::zero(), now - started)),
                         localTime(started));
  }
  agent += fmt::format(", epoch {:016x}", node.agent_epoch());
  appendField(out, "Agent", agent);
  if (response.has_core_pattern()) {
    appendField(out, "Cores", corePatternLine(response.core_pattern()));
  }
  return out;
}

}  // namespace vigie::cli
