#include "agent/logs/agent_logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <utility>

namespace vigie {

namespace {
constexpr const char* kAgentIdentifier = "vigied";
}  // namespace

LogBackend chooseLogBackend(const std::string& socket_path) {
  return journaldAvailable(socket_path) ? LogBackend::kJournald : LogBackend::kStderr;
}

Result<LogBackend> parseLogTarget(const std::string& target, const std::string& socket_path) {
  if (target == "auto") {
    return chooseLogBackend(socket_path);
  }
  if (target == "journal") {
    return LogBackend::kJournald;
  }
  if (target == "stderr") {
    return LogBackend::kStderr;
  }
  return Error{"invalid log target \"" + target + "\" (expected auto, journal or stderr)"};
}

int syslogPriority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return 7;
    case spdlog::level::info:
      return 6;
    case spdlog::level::warn:
      return 4;
    case spdlog::level::err:
      return 3;
    case spdlog::level::critical:
      return 2;
    default:
      return 6;
  }
}

JournalLogSink::JournalLogSink(std::shared_ptr<JournalSink> journal, std::string identifier)
    : journal_(std::move(journal)), identifier_(std::move(identifier)) {}

void JournalLogSink::sink_it_(const spdlog::details::log_msg& msg) {
  JournalFields fields{
      {"MESSAGE", std::string(msg.payload.data(), msg.payload.size())},
      {"PRIORITY", std::to_string(syslogPriority(msg.level))},
      {"SYSLOG_IDENTIFIER", identifier_},
  };
  // A log line that journald refused has nowhere better to go: stderr may be /dev/null.
  journal_->send(fields).ok();
}

std::shared_ptr<spdlog::logger> makeAgentLogger(LogBackend backend,
                                                std::shared_ptr<JournalSink> journal) {
  if (backend == LogBackend::kJournald) {
    if (!journal) {
      journal = std::make_shared<SdJournalSink>();
    }
    auto sink = std::make_shared<JournalLogSink>(std::move(journal), kAgentIdentifier);
    return std::make_shared<spdlog::logger>(kAgentIdentifier, std::move(sink));
  }
  auto logger = std::make_shared<spdlog::logger>(
      kAgentIdentifier, std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  logger->set_pattern(kAgentLogPattern);
  return logger;
}

void setupAgentLogging(spdlog::level::level_enum level, LogBackend backend) {
  auto logger = makeAgentLogger(backend);
  logger->set_level(level);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace vigie
