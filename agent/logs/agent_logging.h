#pragma once

#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>

#include <memory>
#include <mutex>
#include <string>

#include "agent/logs/journal_sink.h"
#include "vigie/result.h"

namespace vigie {

// Where the agent's own log lines go.
enum class LogBackend { kJournald, kStderr };

inline constexpr const char* kAgentLogPattern = "%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v";

// journald when its socket exists at `socket_path`, else stderr.
LogBackend chooseLogBackend(const std::string& socket_path = kJournalSocketPath);

// "auto" (chooseLogBackend), "journal" or "stderr": for a command-line override, so that a
// vigied started by hand or by a test on a systemd host can still log to its stderr.
Result<LogBackend> parseLogTarget(const std::string& target,
                                  const std::string& socket_path = kJournalSocketPath);

// A spdlog sink that sends each record to a JournalSink, with PRIORITY mapped from the level.
// journald stamps its own time, so the message goes unformatted.
class JournalLogSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  JournalLogSink(std::shared_ptr<JournalSink> journal, std::string identifier);

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  std::shared_ptr<JournalSink> journal_;
  std::string identifier_;
};

// syslog priority of a spdlog level (trace and debug: 7, info: 6, warn: 4, error: 3, critical: 2).
int syslogPriority(spdlog::level::level_enum level);

// The agent's logger for `backend`. `journal` is used for kJournald (null: SdJournalSink).
std::shared_ptr<spdlog::logger> makeAgentLogger(LogBackend backend,
                                                std::shared_ptr<JournalSink> journal = nullptr);

// Installs makeAgentLogger(backend) as spdlog's default logger at `level`.
void setupAgentLogging(spdlog::level::level_enum level, LogBackend backend);

}  // namespace vigie
