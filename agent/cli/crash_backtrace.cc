#include "agent/cli/crash_backtrace.h"

#include <fmt/core.h>

#include <algorithm>
#include <vector>

#include "agent/cli/table.h"
#include "agent/cli/terminal.h"

namespace vigie::cli {
namespace {

std::string baseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string functionText(const v1::BacktraceFrame& frame) {
  return frame.function().empty() ? "??" : frame.function();
}

std::string whereText(const v1::BacktraceFrame& frame) {
  std::string out;
  if (!frame.file().empty()) {
    out += "at " + frame.file();
    if (frame.line() > 0) {
      out += ":" + std::to_string(frame.line());
    }
  }
  if (!frame.module().empty()) {
    out += out.empty() ? "" : "  ";
    out += "in " + baseName(frame.module());
    if (frame.function().empty()) {
      out += fmt::format("+{:#x}", frame.module_offset());
    }
  }
  return out;
}

void appendThread(std::string& out, const v1::BacktraceThread& thread, size_t max_frames,
                  bool color) {
  const std::string title =
      fmt::format("thread {}{}", thread.tid(), thread.crashed() ? " (crashed)" : "");
  out += thread.crashed() ? styled("* " + title, Style::kBad, color) : "  " + title;
  out += '\n';
  const size_t shown = std::min<size_t>(max_frames, static_cast<size_t>(thread.frames_size()));
  size_t width = 0;
  for (size_t i = 0; i < shown; ++i) {
    width = std::max(width, displayWidth(functionText(thread.frames(static_cast<int>(i)))));
  }
  for (size_t i = 0; i < shown; ++i) {
    const v1::BacktraceFrame& frame = thread.frames(static_cast<int>(i));
    const std::string function = functionText(frame);
    std::string line = fmt::format("    #{:<2} {:#018x}  {}", frame.index(), frame.pc(), function);
    const std::string where = whereText(frame);
    if (!where.empty()) {
      line.append(width - displayWidth(function) + 2, ' ');
      line += where;
    }
    out += line + '\n';
  }
  if (thread.frames_size() == 0) {
    out += "    (no frames)\n";
  }
  if (static_cast<size_t>(thread.frames_size()) > shown) {
    out += fmt::format("    ... {} more frame(s)\n",
                       static_cast<size_t>(thread.frames_size()) - shown);
  } else if (thread.frames_truncated()) {
    out += "    ... (deeper frames were not kept)\n";
  }
  if (!thread.error().empty()) {
    out += styled("    (unwinding stopped: " + thread.error() + ")", Style::kDim, color) + '\n';
  }
}

// The crashing thread first, then the others in the core's order.
std::vector<const v1::BacktraceThread*> orderedThreads(const v1::Backtrace& backtrace) {
  std::vector<const v1::BacktraceThread*> threads;
  for (const auto& thread : backtrace.threads()) {
    threads.push_back(&thread);
  }
  std::stable_partition(threads.begin(), threads.end(),
                        [](const v1::BacktraceThread* thread) { return thread->crashed(); });
  return threads;
}

}  // namespace

std::string renderBacktrace(const v1::Backtrace& backtrace, bool color) {
  std::string out;
  if (backtrace.threads_size() == 0) {
    out += "No backtrace";
    out += backtrace.error().empty() ? " was captured.\n" : ": " + backtrace.error() + "\n";
    return out;
  }
  for (const v1::BacktraceThread* thread : orderedThreads(backtrace)) {
    appendThread(out, *thread, static_cast<size_t>(thread->frames_size()), color);
  }
  if (backtrace.threads_truncated()) {
    out += "(more threads than the helper unwinds: the others were not kept)\n";
  }
  if (!backtrace.error().empty()) {
    out += "(" + backtrace.error() + ")\n";
  }
  return out;
}

std::string renderCrashingThread(const v1::Backtrace& backtrace, size_t max_frames, bool color) {
  const std::vector<const v1::BacktraceThread*> threads = orderedThreads(backtrace);
  if (threads.empty()) {
    return backtrace.error().empty() ? "  (no backtrace)\n"
                                     : "  (no backtrace: " + backtrace.error() + ")\n";
  }
  std::string out;
  appendThread(out, *threads.front(), max_frames, color);
  return out;
}

}  // namespace vigie::cli
