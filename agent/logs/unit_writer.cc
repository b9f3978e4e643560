#include "agent/logs/unit_writer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <utility>

namespace vigie {

namespace {
constexpr const char* kPriorityStdout = "6";  // LOG_INFO
constexpr const char* kPriorityStderr = "4";  // LOG_WARNING
}  // namespace

UnitWriter::UnitWriter(Params params)
    : params_(std::move(params)),
      stdout_(params_.dir, "stdout", params_.max_journal_line),
      stderr_(params_.dir, "stderr", params_.max_journal_line) {}

spdlog::logger& UnitWriter::logger() const {
  return params_.logger ? *params_.logger : *spdlog::default_logger_raw();
}

void UnitWriter::open(const OutputFileSpec& spec) {
  ++open_count_;
  const RotatingFile::Limits limits{spec.max_size, spec.max_files};
  stdout_.file.setLimits(limits);
  stderr_.file.setLimits(limits);
}

void UnitWriter::close() {
  if (--open_count_ <= 0) {
    open_count_ = 0;
    finish();
  }
}

void UnitWriter::finish() {
  flushJournal(OutputStream::kStdout);
  flushJournal(OutputStream::kStderr);
  stdout_.file.close();
  stderr_.file.close();
}

void UnitWriter::instanceStarted(uint64_t instance_id, pid_t pid, bool to_file, bool to_journal) {
  if (to_journal) {
    // The previous instance's last unterminated lines belong to it: send them now.
    flushJournal(OutputStream::kStdout);
    flushJournal(OutputStream::kStderr);
  }
  current_instance_ = instance_id;
  current_pid_ = pid;
  if (to_file) {
    const std::string marker =
        fmt::format("-- vigie: instance {} started, pid {} --\n", instance_id, pid);
    appendMarker(stdout_, marker);
    appendMarker(stderr_, marker);
  }
}

void UnitWriter::write(OutputStream which, uint64_t instance_id, std::string_view data,
                       uint64_t dropped_before, bool to_file, bool to_journal) {
  Stream& target = stream(which);
  if (to_file) {
    if (dropped_before > 0) {
      appendMarker(target,
                   fmt::format("-- vigie: {} bytes dropped, the log writer fell behind --\n",
                               dropped_before));
    }
    appendToFile(target, data);
  }
  if (to_journal) {
    feedJournal(which, instance_id, data);
  }
}

void UnitWriter::appendMarker(Stream& target, std::string_view text) {
  if (target.file.atLineStart()) {
    appendToFile(target, text);
  } else {
    appendToFile(target, "\n" + std::string(text));
  }
}

void UnitWriter::appendToFile(Stream& target, std::string_view data) {
  const RotatingFile::Outcome outcome = target.file.append(data);
  AtomicOutputCounters& counters = *params_.counters;
  counters.bytes_written.fetch_add(outcome.bytes_written, std::memory_order_relaxed);
  if (outcome.rotations > 0) {
    counters.rotations.fetch_add(outcome.rotations, std::memory_order_relaxed);
    rotated_ = true;
  }
  if (outcome.error) {
    counters.write_errors.fetch_add(1, std::memory_order_relaxed);
    if (!std::exchange(target.error_logged, true)) {
      logger().warn("{}: cannot write its {} log: {}; output is lost until writes succeed again",
                    params_.unit, target.name, outcome.error->message);
    }
  } else if (std::exchange(target.error_logged, false)) {
    logger().info("{}: its {} log is writable again", params_.unit, target.name);
  }
}

void UnitWriter::feedJournal(OutputStream which, uint64_t instance_id, std::string_view data) {
  if (params_.journal == nullptr) {
    return;
  }
  stream(which).lines.feed(instance_id, data,
                           [&](uint64_t id, std::string_view line) { sendLine(which, id, line); });
}

void UnitWriter::flushJournal(OutputStream which) {
  if (params_.journal == nullptr) {
    return;
  }
  stream(which).lines.flush([&](uint64_t id, std::string_view line) { sendLine(which, id, line); });
}

void UnitWriter::sendLine(OutputStream which, uint64_t instance_id, std::string_view line) {
  JournalFields fields{
      {"MESSAGE", std::string(line)},
      {"PRIORITY", which == OutputStream::kStdout ? kPriorityStdout : kPriorityStderr},
      {"SYSLOG_IDENTIFIER", params_.unit},
      {"VIGIE_UNIT", params_.unit},
      {"VIGIE_INSTANCE", std::to_string(instance_id)},
  };
  if (instance_id == current_instance_ && current_pid_ > 0) {
    fields.emplace_back("SYSLOG_PID", std::to_string(current_pid_));
  }
  const Status sent = params_.journal->send(fields);
  AtomicOutputCounters& counters = *params_.counters;
  if (!sent) {
    counters.journal_errors.fetch_add(1, std::memory_order_relaxed);
    if (!std::exchange(journal_error_logged_, true)) {
      logger().warn("{}: journald refused a line: {}; lines are lost until it accepts again",
                    params_.unit, sent.error().message);
    }
    return;
  }
  counters.journal_lines.fetch_add(1, std::memory_order_relaxed);
  if (std::exchange(journal_error_logged_, false)) {
    logger().info("{}: journald accepts its lines again", params_.unit);
  }
}

}  // namespace vigie
