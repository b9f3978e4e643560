#pragma once

#include <string>
#include <utility>
#include <vector>

#include "vigie/result.h"

namespace vigie {

inline constexpr const char* kJournalSocketPath = "/run/systemd/journal/socket";

// One journal entry: FIELD=value pairs, in order. Names are upper-case journal field names.
using JournalFields = std::vector<std::pair<std::string, std::string>>;

// Where journal entries go. The seam between vigie and libsystemd: tests pass a fake.
class JournalSink {
 public:
  virtual ~JournalSink() = default;
  // Thread-safe. An error means the entry was lost.
  virtual Status send(const JournalFields& fields) = 0;
};

// Sends through sd_journal_sendv(). sd_journal_sendv reports success even when nothing listens,
// so callers decide with journaldAvailable() whether to use it at all.
class SdJournalSink final : public JournalSink {
 public:
  Status send(const JournalFields& fields) override;
};

// True when `socket_path` exists and is a socket: journald is running on this host.
bool journaldAvailable(const std::string& socket_path = kJournalSocketPath);

}  // namespace vigie
