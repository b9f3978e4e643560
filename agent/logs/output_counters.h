#pragma once

#include <atomic>
#include <cstdint>

namespace vigie {

// What happened to a unit's output beyond its in-memory tails. Monotonic, for metrics.
struct OutputCounters {
  uint64_t bytes_written = 0;  // to log files, markers included.
  uint64_t bytes_dropped = 0;  // never written: the queue was full, or the agent was stopping.
  uint64_t write_errors = 0;   // failed opens, writes and renames of log files.
  uint64_t rotations = 0;
  uint64_t journal_lines = 0;   // lines journald accepted.
  uint64_t journal_errors = 0;  // lines journald refused.

  OutputCounters& operator+=(const OutputCounters& other);
};

// The same counters, updated by the loop and writer threads and read from anywhere.
struct AtomicOutputCounters {
  std::atomic<uint64_t> bytes_written{0};
  std::atomic<uint64_t> bytes_dropped{0};
  std::atomic<uint64_t> write_errors{0};
  std::atomic<uint64_t> rotations{0};
  std::atomic<uint64_t> journal_lines{0};
  std::atomic<uint64_t> journal_errors{0};

  OutputCounters snapshot() const;
};

inline OutputCounters& OutputCounters::operator+=(const OutputCounters& other) {
  bytes_written += other.bytes_written;
  bytes_dropped += other.bytes_dropped;
  write_errors += other.write_errors;
  rotations += other.rotations;
  journal_lines += other.journal_lines;
  journal_errors += other.journal_errors;
  return *this;
}

inline OutputCounters AtomicOutputCounters::snapshot() const {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  return OutputCounters{bytes_written.load(kRelaxed), bytes_dropped.load(kRelaxed),
                        write_errors.load(kRelaxed),  rotations.load(kRelaxed),
                        journal_lines.load(kRelaxed), journal_errors.load(kRelaxed)};
}

}  // namespace vigie
