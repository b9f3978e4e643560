#include "agent/logs/journal_sink.h"

#include <sys/stat.h>
#include <sys/uio.h>

#define SD_JOURNAL_SUPPRESS_LOCATION  // our CODE_FILE would say nothing about the workload.
#include <systemd/sd-journal.h>

namespace vigie {

Status SdJournalSink::send(const JournalFields& fields) {
  std::vector<std::string> entries;
  entries.reserve(fields.size());
  std::vector<iovec> iov;
  iov.reserve(fields.size());
  for (const auto& [name, value] : fields) {
    std::string& entry = entries.emplace_back();
    entry.reserve(name.size() + 1 + value.size());
    entry.append(name).append(1, '=').append(value);
    iov.push_back(iovec{entry.data(), entry.size()});
  }
  const int r = sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
  if (r < 0) {
    return Error::fromErrno("sd_journal_sendv", -r);
  }
  return Status::okStatus();
}

bool journaldAvailable(const std::string& socket_path) {
  struct stat st {};
  return ::stat(socket_path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

}  // namespace vigie
