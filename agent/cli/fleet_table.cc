#include "agent/cli/fleet_table.h"

#include "agent/cli/exit_codes.h"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <string_view>

namespace vigie::cli {
namespace {

constexpr size_t kMaxNoteNames = 4;

// Nodes that answered at least once have units to count; the others have nothing to show.
bool hasUnits(const FleetNode& node) {
  return node.state().known();
}

std::vector<std::string> failingNames(const FleetNode& node) {
  std::vector<std::string> names;
  for (const v1::Unit& unit : node.state().units()) {
    if (unitFailing(unit)) {
      names.push_back(unit.name());
    }
  }
  return names;
}

std::string note(const FleetNode& node) {
  if (!node.lastError().empty()) {
    return node.lastError();
  }
  const std::vector<std::string> names = failingNames(node);
  if (names.empty()) {
    return "";
  }
  std::string out = "failing: ";
  for (size_t i = 0; i < names.size() && i < kMaxNoteNames; ++i) {
    out += (i > 0 ? ", " : "") + names[i];
  }
  if (names.size() > kMaxNoteNames) {
    out += fmt::format(" and {} more", names.size() - kMaxNoteNames);
  }
  return out;
}

std::optional<float> load1(const FleetNode& node) {
  if (!node.usage() || !node.usage()->has_load()) {
    return std::nullopt;
  }
  return node.usage()->load().load1();
}

std::string jsonString(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string rfc3339(WallTime time) {
  const auto since_epoch = time.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds);
  const time_t whole = static_cast<time_t>(seconds.count());
  struct tm utc {};
  gmtime_r(&whole, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                     millis.count());
}

double seconds(Duration d) {
  return std::chrono::duration<double>(d).count();
}

std::string jsonNode(const FleetNode& node, MonoTime now) {
  std::string out = "{";
  out += "\"name\":" + jsonString(node.target().name);
  out += ",\"address\":" + jsonString(node.target().address);
  out += ",\"status\":" + jsonString(fleetNodeStatusName(node.status()));
  out += fmt::format(",\"missed_polls\":{}", node.missedPolls());
  if (hasUnits(node)) {
    out += fmt::format(",\"units\":{},\"units_failing\":{}", node.state().units().size(),
                       node.failingUnits());
    out += ",\"failing_units\":[";
    const std::vector<std::string> names = failingNames(node);
    for (size_t i = 0; i < names.size(); ++i) {
      out += (i > 0 ? "," : "") + jsonString(names[i]);
    }
    out += "]";
    // An epoch is 64 random bits: a string, since JSON numbers lose precision past 2^53.
    out += fmt::format(",\"epoch\":\"{:016x}\",\"revision\":{}", node.state().epoch(),
                       node.state().revision());
  } else {
    out +=
        ",\"units\":null,\"units_failing\":null,\"failing_units\":[],\"epoch\":null,"
        "\"revision\":null";
  }
  out += node.restartsLastPoll() ? fmt::format(",\"restarts\":{}", *node.restartsLastPoll())
                                 : std::string(",\"restarts\":null");
  out += node.lastAnswer() ? fmt::format(",\"last_heartbeat_age_seconds\":{:.3f}",
                                         seconds(now - *node.lastAnswer()))
                           : std::string(",\"last_heartbeat_age_seconds\":null");
  const std::optional<float> load = load1(node);
  out += load ? fmt::format(",\"load1\":{:.2f}", *load) : std::string(",\"load1\":null");
  if (node.usage() && node.usage()->has_memory()) {
    out += fmt::format(",\"memory_available_bytes\":{}", node.usage()->memory().available_bytes());
  } else {
    out += ",\"memory_available_bytes\":null";
  }
  if (node.info()) {
    out += ",\"hostname\":" + jsonString(node.info()->hostname());
    out += ",\"agent_version\":" + jsonString(node.info()->agent_version());
    out += ",\"kernel_release\":" + jsonString(node.info()->kernel_release());
  } else {
    out += ",\"hostname\":null,\"agent_version\":null,\"kernel_release\":null";
  }
  out += ",\"error\":" +
         (node.lastError().empty() ? std::string("null") : jsonString(node.lastError()));
  return out + "}";
}

// Left-aligned text columns, right-aligned figures, two spaces between columns; the last
// column is not padded.
std::string formatRows(const std::vector<std::vector<std::string>>& rows,
                       const std::vector<bool>& right_aligned) {
  std::vector<size_t> widths(right_aligned.size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], row[c].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      const bool last = c + 1 == row.size();
      if (c > 0) {
        line += "  ";
      }
      if (right_aligned[c]) {
        line += fmt::format("{:>{}}", row[c], widths[c]);
      } else {
        line += last ? row[c] : fmt::format("{:<{}}", row[c], widths[c]);
      }
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace

FleetSummary summarizeFleet(const std::vector<FleetNode>& nodes) {
  FleetSummary summary;
  summary.nodes = nodes.size();
  for (const FleetNode& node : nodes) {
    switch (node.status()) {
      case FleetNodeStatus::kUp:
        ++summary.up;
        break;
      case FleetNodeStatus::kDown:
        ++summary.down;
        break;
      case FleetNodeStatus::kPending:
        ++summary.pending;
        break;
    }
    if (hasUnits(node)) {
      summary.units += node.state().units().size();
      summary.failing += node.failingUnits();
    }
    summary.restarts += node.restartsLastPoll().value_or(0);
  }
  return summary;
}

int fleetExitCode(const FleetSummary& summary) {
  if (summary.up == summary.nodes) {
    return kExitOk;
  }
  return summary.up == 0 ? kExitUnreachable : kExitFailed;
}

std::string formatAge(Duration age) {
  using std::chrono::duration_cast;
  if (age < Duration::zero()) {
    age = Duration::zero();
  }
  if (age < 10s) {
    // Truncated, not rounded: "9.96s" must not read "10.0s".
    const auto tenths = duration_cast<std::chrono::milliseconds>(age).count() / 100;
    return fmt::format("{}.{}s", tenths / 10, tenths % 10);
  }
  constexpr int64_t kHour = 3600;
  constexpr int64_t kDay = 24 * kHour;
  const int64_t total = duration_cast<std::chrono::seconds>(age).count();
  if (total < 120) {
    return fmt::format("{}s", total);
  }
  if (total < 2 * kHour) {
    return fmt::format("{}m{:02}s", total / 60, total % 60);
  }
  if (total < 2 * kDay) {
    return fmt::format("{}h{:02}m", total / kHour, (total % kHour) / 60);
  }
  return fmt::format("{}d{:02}h", total / kDay, (total % kDay) / kHour);
}

std::string renderFleetTable(const std::vector<FleetNode>& nodes, MonoTime now) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"NODE", "STATUS", "UNITS", "FAILING", "RESTARTS", "HEARTBEAT", "LOAD", "NOTE"});
  for (const FleetNode& node : nodes) {
    const bool known = hasUnits(node);
    std::string status = fleetNodeStatusName(node.status());
    if (node.status() == FleetNodeStatus::kUp && node.missedPolls() > 0) {
      status += fmt::format(" ({} missed)", node.missedPolls());
    }
    const std::optional<float> load = load1(node);
    rows.push_back({
        node.target().name,
        status,
        known ? std::to_string(node.state().units().size()) : "-",
        known ? std::to_string(node.failingUnits()) : "-",
        node.restartsLastPoll() ? std::to_string(*node.restartsLastPoll()) : "-",
        node.lastAnswer() ? formatAge(now - *node.lastAnswer()) + " ago" : "never",
        load ? fmt::format("{:.2f}", *load) : "-",
        note(node),
    });
  }
  std::string out = formatRows(rows, {false, false, true, true, true, false, true, false});
  const FleetSummary summary = summarizeFleet(nodes);
  out += fmt::format("{} node{}: {} up, {} down", summary.nodes, summary.nodes == 1 ? "" : "s",
                     summary.up, summary.down);
  if (summary.pending > 0) {
    out += fmt::format(", {} pending", summary.pending);
  }
  out += fmt::format("; {} unit{}, {} failing; {} restart{} since the previous answers\n",
                     summary.units, summary.units == 1 ? "" : "s", summary.failing,
                     summary.restarts, summary.restarts == 1 ? "" : "s");
  return out;
}

std::string renderFleetJson(const std::vector<FleetNode>& nodes, uint64_t round, MonoTime now,
                            WallTime wall_now) {
  std::string out =
      fmt::format("{{\"round\":{},\"time\":{},\"nodes\":[", round, jsonString(rfc3339(wall_now)));
  for (size_t i = 0; i < nodes.size(); ++i) {
    out += (i > 0 ? "," : "") + jsonNode(nodes[i], now);
  }
  const FleetSummary summary = summarizeFleet(nodes);
  out += fmt::format(
      "],\"summary\":{{\"nodes\":{},\"up\":{},\"down\":{},\"pending\":{},\"units\":{},"
      "\"units_failing\":{},\"restarts\":{}}}}}",
      summary.nodes, summary.up, summary.down, summary.pending, summary.units, summary.failing,
      summary.restarts);
  return out;
}

}  // namespace vigie::cli
