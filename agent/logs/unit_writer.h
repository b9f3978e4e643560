#pragma once

#include <spdlog/logger.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "agent/logs/journal_sink.h"
#include "agent/logs/line_splitter.h"
#include "agent/logs/output_counters.h"
#include "agent/logs/rotating_file.h"
#include "vigie/config.h"
#include "vigie/output.h"

namespace vigie {

// The log writer thread's side of one unit: its two rotating files and its partial journal
// lines. Every method may block on the disk or on journald; only the writer thread calls them.
// Errors are counted, and logged once per stream until a write succeeds again.
class UnitWriter {
 public:
  struct Params {
    std::string unit;
    std::string dir;                 // <state_dir>/logs/<unit>
    JournalSink* journal = nullptr;  // null: journald is not running, lines are not sent.
    size_t max_journal_line = size_t{48} * 1024;
    AtomicOutputCounters* counters = nullptr;
    std::shared_ptr<spdlog::logger> logger;  // null: spdlog's default logger.
  };

  explicit UnitWriter(Params params);

  // Outputs of a unit may overlap across a reload: files close when the last one closes.
  void open(const OutputFileSpec& spec);
  void close();

  void instanceStarted(uint64_t instance_id, pid_t pid, bool to_file, bool to_journal);
  void write(OutputStream stream, uint64_t instance_id, std::string_view data,
             uint64_t dropped_before, bool to_file, bool to_journal);
  // Sends partial lines and closes the files, whatever the open count.
  void finish();
  // Whether a file rotated since the last call: the disk budget is due.
  bool takeRotated() { return std::exchange(rotated_, false); }

 private:
  struct Stream {
    Stream(const std::string& dir, const char* stream_name, size_t max_line)
        : file(dir, stream_name, {OutputFileSpec{}.max_size, OutputFileSpec{}.max_files}),
          lines(max_line),
          name(stream_name) {}
    RotatingFile file;
    LineSplitter lines;
    const char* name;
    bool error_logged = false;
  };

  Stream& stream(OutputStream which) { return which == OutputStream::kStdout ? stdout_ : stderr_; }
  void appendToFile(Stream& stream, std::string_view data);
  void appendMarker(Stream& stream, std::string_view text);
  void feedJournal(OutputStream which, uint64_t instance_id, std::string_view data);
  void flushJournal(OutputStream which);
  void sendLine(OutputStream which, uint64_t instance_id, std::string_view line);
  spdlog::logger& logger() const;

  Params params_;
  Stream stdout_;
  Stream stderr_;
  int open_count_ = 0;
  bool rotated_ = false;
  bool journal_error_logged_ = false;
  uint64_t current_instance_ = 0;  // the last instance started, and its pid for SYSLOG_PID.
  pid_t current_pid_ = 0;
};

}  // namespace vigie
