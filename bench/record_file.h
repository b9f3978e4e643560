// The crasher's record file (layout in record.h), shared by the benchmarks that measure
// restarts: the driver creates and maps it, every crasher instance maps it too and writes its
// timestamps there.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "record.h"
#include "vigie/result.h"

namespace vigie::bench {

// Slots beyond `runs`, for instances started after the last one the driver waits for.
constexpr uint32_t kRecordSpareSlots = 16;

// The record file, mapped shared with every crasher instance.
class RecordFile {
 public:
  static Result<RecordFile> create(const std::string& path, uint32_t runs,
                                   int64_t idle_deadline_ns) {
    const uint32_t slots = runs + kRecordSpareSlots;
    const size_t length = sizeof(BenchRecordHeader) + size_t{slots} * sizeof(BenchRecordSlot);
    const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      return Error::fromErrno("create " + path);
    }
    if (ftruncate(fd, static_cast<off_t>(length)) != 0) {
      Error error = Error::fromErrno("ftruncate " + path);
      close(fd);
      return error;
    }
    void* map = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
      return Error::fromErrno("mmap " + path);
    }
    RecordFile record(map, length);
    // ftruncate gave zeroes: only the header needs filling.
    record.header_->magic = BENCH_RECORD_MAGIC;
    record.header_->version = BENCH_RECORD_VERSION;
    record.header_->runs = runs;
    record.header_->slots = slots;
    record.header_->idle_deadline_ns = idle_deadline_ns;
    return record;
  }

  RecordFile(RecordFile&& other) noexcept
      : map_(std::exchange(other.map_, nullptr)),
        length_(other.length_),
        header_(other.header_),
        slots_(other.slots_) {}
  RecordFile(const RecordFile&) = delete;
  RecordFile& operator=(const RecordFile&) = delete;
  RecordFile& operator=(RecordFile&&) = delete;
  ~RecordFile() {
    if (map_ != nullptr) {
      munmap(map_, length_);
    }
  }

  uint64_t started() const {
    return std::atomic_ref<uint64_t>(header_->counter).load(std::memory_order_acquire);
  }

  // The counter moves before the slot is written: a start counts once its timestamp is there,
  // so that stopping the supervisor cannot cut an instance between the two.
  bool hasStarted(uint64_t index) const {
    return index < header_->slots && started() > index && startNs(index) != 0;
  }

  // Latencies of restarts 0..runs-1, in ns; `bad` counts pairs with missing or negative data.
  std::vector<int64_t> latencies(size_t* bad) const {
    std::vector<int64_t> out;
    *bad = 0;
    const uint64_t count = std::min<uint64_t>(started(), header_->slots);
    for (uint64_t i = 0; i < header_->runs && i + 1 < count; ++i) {
      const int64_t exit_ns = exitNs(i);
      const int64_t next_start_ns = startNs(i + 1);
      if (exit_ns <= 0 || next_start_ns <= 0 || next_start_ns < exit_ns) {
        ++*bad;
        continue;
      }
      out.push_back(next_start_ns - exit_ns);
    }
    return out;
  }

  int64_t startNs(uint64_t i) const {
    return std::atomic_ref<int64_t>(slots_[i].start_ns).load(std::memory_order_acquire);
  }
  int64_t exitNs(uint64_t i) const {
    return std::atomic_ref<int64_t>(slots_[i].exit_ns).load(std::memory_order_acquire);
  }

  std::vector<pid_t> pids() const {
    std::vector<pid_t> out;
    const uint64_t count = std::min<uint64_t>(started(), header_->slots);
    for (uint64_t i = 0; i < count; ++i) {
      const int32_t pid = std::atomic_ref<int32_t>(slots_[i].pid).load(std::memory_order_relaxed);
      if (pid > 0) {
        out.push_back(pid);
      }
    }
    return out;
  }

 private:
  RecordFile(void* map, size_t length)
      : map_(map),
        length_(length),
        header_(static_cast<BenchRecordHeader*>(map)),
        slots_(reinterpret_cast<BenchRecordSlot*>(header_ + 1)) {}

  void* map_;
  size_t length_;
  BenchRecordHeader* header_;
  BenchRecordSlot* slots_;
};

}  // namespace vigie::bench
