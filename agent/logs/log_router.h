#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "agent/logs/disk_budget.h"
#include "agent/logs/journal_sink.h"
#include "agent/logs/output_counters.h"
#include "agent/logs/output_queue.h"
#include "vigie/config.h"
#include "vigie/output.h"
#include "vigie/time.h"

namespace vigie {

struct LogRouterOptions {
  size_t queue_limit = size_t{8} * 1024 * 1024;  // bytes waiting for the writer, all units.
  Duration drain_timeout = 2s;                   // how long a stop waits for the writer.
  Duration budget_interval = 10s;                // the disk budget runs at most this often.
  size_t max_journal_line = size_t{48} * 1024;
  DiskBudget::FreeBytesFn free_bytes;                       // null: statvfs.
  std::vector<DiskBudget::CandidateSource> budget_sources;  // more deletable files (crash spool).
  std::shared_ptr<spdlog::logger> logger;                   // null: spdlog's default logger.
};

struct LogRouterCounters {
  OutputCounters total;  // summed over units.
  uint64_t budget_files_deleted = 0;
  uint64_t budget_bytes_deleted = 0;
  uint64_t queued_bytes = 0;
};

// Sends units' output to rotating files under <state_dir>/logs/<unit>/ and to journald, and
// keeps the state dir within its disk budget. The loop thread only copies bytes into a bounded
// queue; one writer thread owned by the router does every write, rename, unlink and journal
// send. What does not fit in the queue is dropped and counted.
class LogRouter final : public OutputRouter {
 public:
  LogRouter(std::string state_dir, StorageSpec storage, JournalSink& journal,
            bool journald_available, LogRouterOptions options = {});
  ~LogRouter() override;
  LogRouter(const LogRouter&) = delete;
  LogRouter& operator=(const LogRouter&) = delete;

  // Loop thread. The returned output may outlive the router: it then drops (and counts).
  std::unique_ptr<UnitOutput> open(const std::string& unit, const OutputSpec& spec) override;

  // Any thread.
  void setStorage(const StorageSpec& storage);
  void requestBudgetCheck();
  LogRouterCounters counters() const;
  std::vector<std::pair<std::string, OutputCounters>> unitCounters() const;
  std::optional<OutputCounters> unitCounters(const std::string& unit) const;
  std::string unitLogDir(const std::string& unit) const;

  // Writes what is queued (for at most drain_timeout), then stops the writer. The destructor
  // calls it; outputs still open afterwards drop what they get.
  void flushAndStop();

  void pauseWriterForTest(bool paused) { queue_->pauseForTest(paused); }
  // Blocks until everything queued so far is written (and the budget run it caused, if due).
  void waitIdleForTest() { queue_->waitIdleForTest(); }

 private:
  void run();
  void handle(OutputMessage& message);
  void runBudgetIfDue();
  spdlog::logger& logger() const;

  const std::string state_dir_;
  JournalSink* const journal_;  // null when journald is not running.
  const LogRouterOptions options_;
  std::shared_ptr<OutputQueue> queue_;

  mutable std::mutex channels_mutex_;  // guards the map only, never held across I/O.
  std::map<std::string, std::shared_ptr<LogChannel>> channels_;

  // Writer thread only.
  DiskBudget budget_;
  bool budget_requested_ = true;  // the dir may be over budget from a previous run.
  std::optional<OutputQueue::Clock::time_point> last_budget_run_;

  std::atomic<uint64_t> budget_files_deleted_{0};
  std::atomic<uint64_t> budget_bytes_deleted_{0};
  std::thread writer_;
};

}  // namespace vigie
