#include "agent/cli/crash_details.h"

#include <fmt/core.h>

#include <csignal>
#include <string_view>
#include <vector>

#include "agent/cli/crash_backtrace.h"
#include "agent/cli/crash_words.h"
#include "agent/cli/human.h"
#include "agent/cli/terminal.h"

namespace vigie::cli {
namespace {

constexpr size_t kLabelWidth = 14;
constexpr size_t kTopFrames = 8;
constexpr size_t kTailLines = 10;

void appendField(std::string& out, std::string_view label, std::string_view value) {
  out += fmt::format("{:<{}}{}\n", std::string(label) + ":", kLabelWidth, value);
}

std::string unitLine(const v1::CrashIncident& incident) {
  if (incident.unit().empty()) {
    return "none: a node-level crash (the process was no unit's)";
  }
  if (incident.descendant()) {
    return fmt::format("{}, a process below instance {}", incident.unit(), incident.instance_id());
  }
  std::string line = fmt::format("{}, instance {}", incident.unit(), incident.instance_id());
  if (incident.restart_count() > 0) {
    line += fmt::format(" ({} restart(s) in its run of failures)", incident.restart_count());
  }
  return line;
}

std::string reasonLine(const v1::GetCrashResponse& response) {
  const v1::CrashIncident& incident = response.incident();
  if (incident.reason() == "exited") {
    return fmt::format("exited with code {}", incident.exit_code());
  }
  std::string line = incident.reason().empty() ? "crashed" : incident.reason();
  if (!incident.signal_name().empty()) {
    line += ": " + incident.signal_name();
  }
  const v1::CaptureReport& report = response.report();
  if (report.has_signal_info()) {
    line += ", " + signalCodeText(report.signal(), report.signal_code());
    const int sig = report.signal();
    if (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE) {
      line += fmt::format(" at {:#x}", report.fault_address());
    }
  }
  return line;
}

std::string timeLine(const v1::CrashIncident& incident, WallTime now) {
  const auto& at = incident.has_ended() ? incident.ended() : incident.opened();
  std::string line = fmt::format("{} ({})", localTime(fromProto(at)), humanAgo(fromProto(at), now));
  if (incident.has_uptime()) {
    line += ", after running " + humanDuration(fromProto(incident.uptime()));
  }
  return line;
}

std::string fingerprintLine(const v1::GetCrashResponse& response, WallTime now) {
  const v1::CrashIncident& incident = response.incident();
  if (incident.fingerprint().empty()) {
    return "-";
  }
  const v1::CrashGroup& group = response.group();
  if (group.count() <= 1) {
    return incident.fingerprint() + " (the only crash of its kind on record)";
  }
  return fmt::format("{} ({} crashes of its kind on record, first {}, latest {})",
                     incident.fingerprint(), group.count(),
                     humanAgo(fromProto(group.first_seen()), now),
                     humanAgo(fromProto(group.last_seen()), now));
}

std::string coreLine(const v1::GetCrashResponse& response, bool color) {
  const v1::CrashSummary& summary = response.summary();
  const v1::CrashIncident& incident = response.incident();
  if (summary.core_available()) {
    return fmt::format("{} compressed ({} raw): `vigiectl crash gdb {}` opens it in gdb",
                       humanBytes(incident.core_stored_bytes()),
                       humanBytes(incident.core_raw_bytes()), incident.id());
  }
  std::string why = coreStateName(incident.core_state());
  if (incident.core_removed()) {
    why = "removed by retention";
  } else if (response.report().core().missing_reason().size() > 0) {
    why = response.report().core().missing_reason();
  } else if (incident.status() == v1::INCIDENT_STATUS_PENDING) {
    why = "not yet: the capture is still running";
  } else if (incident.capture_id().empty()) {
    why = incident.reason() == "core-dumped"
              ? "the kernel dumped one, but not to vigie (core_pattern is not vigie's helper)"
              : "the process " +
                    std::string(incident.reason() == "exited" ? "exited" : "was killed") +
                    " without dumping one";
  }
  return styled("none", Style::kWarn, color) + ": " + why;
}

std::string usageLine(const v1::IncidentUsage& usage) {
  return fmt::format("user {}, system {}, max RSS {}", humanDuration(fromProto(usage.user_cpu())),
                     humanDuration(fromProto(usage.system_cpu())),
                     humanBytes(usage.max_rss_bytes()));
}

std::string joined(const google::protobuf::RepeatedPtrField<std::string>& args) {
  std::string out;
  for (const auto& arg : args) {
    out += (out.empty() ? "" : " ") + arg;
  }
  return out;
}

void appendEnvironment(std::string& out, const v1::GetCrashResponse& response) {
  const v1::CrashProcess& process = response.report().process();
  if (response.environ_withheld()) {
    appendField(out, "Environment", "withheld: admin callers only (this client has the read role)");
    return;
  }
  if (process.environ_size() == 0) {
    return;
  }
  appendField(out, "Environment",
              fmt::format("{} variable(s){}", process.environ_size(),
                          process.redacted_count() > 0
                              ? fmt::format(", {} secret-looking value(s) redacted",
                                            process.redacted_count())
                              : ""));
  for (const auto& variable : process.environ()) {
    out += "  " + variable + "\n";
  }
}

void appendErrors(std::string& out, const v1::GetCrashResponse& response) {
  const auto& errors = response.incident().errors();
  for (int i = 0; i < errors.size(); ++i) {
    appendField(out, i == 0 ? "Errors" : "",
                errors.Get(i).stage() + ": " + errors.Get(i).message());
  }
  const auto& warnings = response.report().warnings();
  for (int i = 0; i < warnings.size(); ++i) {
    appendField(out, i == 0 ? "Warnings" : "",
                warnings.Get(i).stage() + ": " + warnings.Get(i).message());
  }
}

}  // namespace

std::string signalCodeText(int signal, int code) {
  switch (code) {
    case SI_USER:
      return "sent by kill (SI_USER)";
    case SI_TKILL:
      return "sent by tkill or raise (SI_TKILL)";
    case SI_QUEUE:
      return "sent by sigqueue (SI_QUEUE)";
    default:
      break;
  }
  if (signal == SIGSEGV && code == SEGV_MAPERR) {
    return "address not mapped (SEGV_MAPERR)";
  }
  if (signal == SIGSEGV && code == SEGV_ACCERR) {
    return "invalid permissions for the mapping (SEGV_ACCERR)";
  }
  if (signal == SIGBUS && code == BUS_ADRALN) {
    return "misaligned address (BUS_ADRALN)";
  }
  if (signal == SIGBUS && code == BUS_ADRERR) {
    return "nonexistent physical address, e.g. past the end of a mapped file (BUS_ADRERR)";
  }
  if (signal == SIGFPE && code == FPE_INTDIV) {
    return "integer divide by zero (FPE_INTDIV)";
  }
  if (signal == SIGILL && code == ILL_ILLOPN) {
    return "illegal operand (ILL_ILLOPN)";
  }
  if (signal == SIGILL && code == ILL_ILLOPC) {
    return "illegal opcode (ILL_ILLOPC)";
  }
  return fmt::format("si_code {}", code);
}

std::string tailLines(const std::string& tail, size_t max_lines) {
  std::string_view text = tail;
  while (!text.empty() && text.back() == '\n') {
    text.remove_suffix(1);
  }
  if (text.empty()) {
    return "";
  }
  std::vector<std::string_view> lines;
  for (size_t start = 0;;) {
    const size_t newline = text.find('\n', start);
    lines.push_back(text.substr(
        start, newline == std::string_view::npos ? std::string_view::npos : newline - start));
    if (newline == std::string_view::npos) {
      break;
    }
    start = newline + 1;
  }
  std::string out;
  for (size_t i = lines.size() > max_lines ? lines.size() - max_lines : 0; i < lines.size(); ++i) {
    out += "  ";
    for (const char c : lines[i]) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte == '\t' || byte >= 0x20) {
        out += c;
      } else {
        out += fmt::format("\\x{:02x}", byte);
      }
    }
    out += '\n';
  }
  return out;
}

std::string renderCrashDetails(const v1::GetCrashResponse& response, WallTime now, bool color) {
  const v1::CrashIncident& incident = response.incident();
  std::string out;
  appendField(out, "Crash", incident.id());
  appendField(
      out, "Status",
      styled(crashStatusName(incident.status()), crashStatusStyle(incident.status()), color));
  appendField(out, "Unit", unitLine(incident));
  appendField(out, "Time", timeLine(incident, now));
  appendField(out, "Reason", reasonLine(response));
  if (!response.summary().crashing_function().empty()) {
    appendField(out, "Crashed in", response.summary().crashing_function());
  }
  appendField(
      out, "Process",
      fmt::format("pid {}, {}{}", incident.pid(), incident.exe().empty() ? "?" : incident.exe(),
                  response.report().process().exe_deleted() ? " (deleted since)" : ""));
  if (incident.cmdline_size() > 0) {
    appendField(out, "Command", joined(incident.cmdline()));
  }
  appendField(out, "Fingerprint", fingerprintLine(response, now));
  appendField(out, "Core", coreLine(response, color));
  if (incident.has_usage()) {
    appendField(out, "Resources", usageLine(incident.usage()));
  }
  appendErrors(out, response);
  appendEnvironment(out, response);
  if (incident.backtrace().threads_size() > 0 || !incident.backtrace().error().empty()) {
    out += fmt::format("Backtrace (`vigiectl crash bt {}` shows every thread):\n", incident.id());
    out += renderCrashingThread(incident.backtrace(), kTopFrames, color);
  }
  if (!incident.stdout_tail().empty()) {
    out += "Last output on stdout:\n" + tailLines(incident.stdout_tail(), kTailLines);
  }
  if (!incident.stderr_tail().empty()) {
    out += "Last output on stderr:\n" + tailLines(incident.stderr_tail(), kTailLines);
  }
  return out;
}

}  // namespace vigie::cli
