#include "agent/logs/log_router.h"

#include <spdlog/spdlog.h>

#include <array>

#include "agent/logs/unit_writer.h"

namespace vigie {

// One unit's output state, shared by its outputs (loop thread), the queue's messages and the
// router's map. `writer` is touched by the writer thread only (and after it has exited).
struct LogChannel {
  explicit LogChannel(std::string name) : unit(std::move(name)) {}

  const std::string unit;
  AtomicOutputCounters counters;
  std::unique_ptr<UnitWriter> writer;
};

namespace {

using Kind = OutputMessage::Kind;

// What Unit holds: copies output into the router's queue, on the loop thread.
class RoutedUnitOutput final : public UnitOutput {
 public:
  RoutedUnitOutput(std::shared_ptr<OutputQueue> queue, std::shared_ptr<LogChannel> channel,
                   bool to_file, bool to_journal, std::shared_ptr<spdlog::logger> logger)
      : queue_(std::move(queue)),
        channel_(std::move(channel)),
        to_file_(to_file),
        to_journal_(to_journal),
        logger_(std::move(logger)) {}

  ~RoutedUnitOutput() override {
    OutputMessage close;
    close.kind = Kind::kClose;
    close.channel = channel_;
    queue_->pushControl(std::move(close));
  }

  void instanceStarted(uint64_t instance_id, pid_t pid) override {
    OutputMessage started = header();
    started.kind = Kind::kInstanceStarted;
    started.instance_id = instance_id;
    started.pid = pid;
    queue_->pushControl(std::move(started));
  }

  void write(OutputStream stream, uint64_t instance_id, std::string_view data) override {
    if (data.empty()) {
      return;
    }
    uint64_t& dropped = dropped_[stream == OutputStream::kStdout ? 0 : 1];
    OutputMessage message = header();
    message.stream = stream;
    message.instance_id = instance_id;
    message.dropped_before = dropped;
    const OutputQueue::PushResult pushed = queue_->pushData(std::move(message), data);
    if (pushed == OutputQueue::PushResult::kQueued) {
      dropped = 0;
      return;
    }
    dropped += data.size();
    channel_->counters.bytes_dropped.fetch_add(data.size(), std::memory_order_relaxed);
    if (pushed == OutputQueue::PushResult::kDroppedFirst) {
      logLine().warn(
          "log writer is behind: {} bytes of output are queued; dropping output (first of unit "
          "{}) until it catches up",
          queue_->maxBytes(), channel_->unit);
    }
  }

 private:
  OutputMessage header() const {
    OutputMessage message;
    message.channel = channel_;
    message.to_file = to_file_;
    message.to_journal = to_journal_;
    return message;
  }
  spdlog::logger& logLine() const { return logger_ ? *logger_ : *spdlog::default_logger_raw(); }

  std::shared_ptr<OutputQueue> queue_;
  std::shared_ptr<LogChannel> channel_;
  const bool to_file_;
  const bool to_journal_;
  std::shared_ptr<spdlog::logger> logger_;
  std::array<uint64_t, 2> dropped_{};  // per stream, since the last byte queued.
};

// A unit whose output goes nowhere but its tails.
class DiscardedUnitOutput final : public UnitOutput {
 public:
  void instanceStarted(uint64_t, pid_t) override {}
  void write(OutputStream, uint64_t, std::string_view) override {}
};

}  // namespace

LogRouter::LogRouter(std::string state_dir, StorageSpec storage, JournalSink& journal,
                     bool journald_available, LogRouterOptions options)
    : state_dir_(std::move(state_dir)),
      journal_(journald_available ? &journal : nullptr),
      options_(std::move(options)),
      queue_(std::make_shared<OutputQueue>(options_.queue_limit)),
      budget_(state_dir_, storage, options_.free_bytes, options_.logger) {
  for (const DiskBudget::CandidateSource& source : options_.budget_sources) {
    budget_.addSource(source);
  }
  writer_ = std::thread([this] { run(); });
}

LogRouter::~LogRouter() {
  flushAndStop();
}

spdlog::logger& LogRouter::logger() const {
  return options_.logger ? *options_.logger : *spdlog::default_logger_raw();
}

std::string LogRouter::unitLogDir(const std::string& unit) const {
  return state_dir_ + "/logs/" + unit;
}

std::unique_ptr<UnitOutput> LogRouter::open(const std::string& unit, const OutputSpec& spec) {
  // The config rejects such names; a caller that did not validate must not write elsewhere.
  if (unit.empty() || unit == "." || unit == ".." || unit.find('/') != std::string::npos) {
    logger().error("\"{}\": not a valid unit name for log files; its output is not kept", unit);
    return std::make_unique<DiscardedUnitOutput>();
  }
  if (spec.journal && journal_ == nullptr) {
    logger().info("{}: output.journal is set but journald is not running; lines are not sent",
                  unit);
  }
  const bool to_file = spec.file.enabled;
  const bool to_journal = spec.journal && journal_ != nullptr;
  if (!to_file && !to_journal) {
    return std::make_unique<DiscardedUnitOutput>();
  }
  std::shared_ptr<LogChannel> channel;
  {
    std::lock_guard lock(channels_mutex_);
    std::shared_ptr<LogChannel>& slot = channels_[unit];
    if (!slot) {
      slot = std::make_shared<LogChannel>(unit);
    }
    channel = slot;
  }
  OutputMessage opened;
  opened.kind = Kind::kOpen;
  opened.channel = channel;
  opened.file_spec = spec.file;
  queue_->pushControl(std::move(opened));
  return std::make_unique<RoutedUnitOutput>(queue_, std::move(channel), to_file, to_journal,
                                            options_.logger);
}

void LogRouter::setStorage(const StorageSpec& storage) {
  OutputMessage message;
  message.kind = Kind::kSetStorage;
  message.storage = storage;
  queue_->pushControl(std::move(message));
}

void LogRouter::requestBudgetCheck() {
  OutputMessage message;
  message.kind = Kind::kBudgetCheck;
  queue_->pushControl(std::move(message));
}

void LogRouter::run() {
  for (;;) {
    std::optional<OutputQueue::Clock::time_point> wake_at;
    if (budget_requested_) {
      wake_at = last_budget_run_ ? *last_budget_run_ + options_.budget_interval
                                 : OutputQueue::Clock::time_point::min();
    }
    OutputQueue::Popped popped = queue_->pop(wake_at);
    if (popped.finished) {
      return;
    }
    if (popped.message) {
      handle(*popped.message);
    }
    if (const uint64_t dropped = queue_->takeOverflowEnded(); dropped > 0) {
      logger().warn("log writer caught up; {} bytes of output were dropped meanwhile", dropped);
    }
    runBudgetIfDue();
  }
}

void LogRouter::handle(OutputMessage& message) {
  LogChannel* channel = message.channel.get();
  if (channel != nullptr && !channel->writer) {
    channel->writer = std::make_unique<UnitWriter>(
        UnitWriter::Params{channel->unit, unitLogDir(channel->unit), journal_,
                           options_.max_journal_line, &channel->counters, options_.logger});
  }
  switch (message.kind) {
    case Kind::kOpen:
      channel->writer->open(message.file_spec);
      break;
    case Kind::kClose:
      channel->writer->close();
      break;
    case Kind::kInstanceStarted:
      channel->writer->instanceStarted(message.instance_id, message.pid, message.to_file,
                                       message.to_journal);
      break;
    case Kind::kData:
      channel->writer->write(message.stream, message.instance_id, message.data,
                             message.dropped_before, message.to_file, message.to_journal);
      if (channel->writer->takeRotated()) {
        budget_requested_ = true;
      }
      break;
    case Kind::kBudgetCheck:
      budget_requested_ = true;
      break;
    case Kind::kSetStorage:
      budget_.setSpec(message.storage);
      budget_requested_ = true;
      break;
  }
}

void LogRouter::runBudgetIfDue() {
  if (!budget_requested_) {
    return;
  }
  const auto now = OutputQueue::Clock::now();
  if (last_budget_run_ && now < *last_budget_run_ + options_.budget_interval) {
    return;
  }
  budget_requested_ = false;
  last_budget_run_ = now;
  const DiskBudget::Outcome outcome = budget_.enforce();
  budget_files_deleted_.fetch_add(outcome.files_deleted, std::memory_order_relaxed);
  budget_bytes_deleted_.fetch_add(outcome.bytes_deleted, std::memory_order_relaxed);
}

void LogRouter::flushAndStop() {
  if (!writer_.joinable()) {
    return;
  }
  queue_->stop(OutputQueue::Clock::now() + options_.drain_timeout);
  writer_.join();
  for (OutputMessage& left : queue_->takeRemaining()) {
    if (left.channel && left.kind == Kind::kData) {
      left.channel->counters.bytes_dropped.fetch_add(left.data.size(), std::memory_order_relaxed);
    }
  }
  std::vector<std::shared_ptr<LogChannel>> channels;
  {
    std::lock_guard lock(channels_mutex_);
    for (const auto& [unit, channel] : channels_) {
      channels.push_back(channel);
    }
  }
  for (const auto& channel : channels) {
    if (channel->writer) {
      channel->writer->finish();  // the last partial journal lines.
      channel->writer.reset();
    }
  }
}

LogRouterCounters LogRouter::counters() const {
  LogRouterCounters result;
  {
    std::lock_guard lock(channels_mutex_);
    for (const auto& [unit, channel] : channels_) {
      result.total += channel->counters.snapshot();
    }
  }
  result.budget_files_deleted = budget_files_deleted_.load(std::memory_order_relaxed);
  result.budget_bytes_deleted = budget_bytes_deleted_.load(std::memory_order_relaxed);
  result.queued_bytes = queue_->queuedBytes();
  return result;
}

std::vector<std::pair<std::string, OutputCounters>> LogRouter::unitCounters() const {
  std::vector<std::pair<std::string, OutputCounters>> result;
  std::lock_guard lock(channels_mutex_);
  result.reserve(channels_.size());
  for (const auto& [unit, channel] : channels_) {
    result.emplace_back(unit, channel->counters.snapshot());
  }
  return result;
}

std::optional<OutputCounters> LogRouter::unitCounters(const std::string& unit) const {
  std::lock_guard lock(channels_mutex_);
  const auto it = channels_.find(unit);
  if (it == channels_.end()) {
    return std::nullopt;
  }
  return it->second->counters.snapshot();
}

}  // namespace vigie
