#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/v1/crash.pb.h"

namespace vigie::coredump {

// Pure parsers of /proc/PID files, so that tests can feed them text.

struct ProcStat {
  std::string comm;
  char state = '?';
  pid_t ppid = 0;
  pid_t pgid = 0;
  pid_t session = 0;
  uint64_t start_ticks = 0;  // field 22
};
// /proc/PID/stat. The comm may hold spaces and parentheses: it ends at the last ')'.
std::optional<ProcStat> parseProcStat(std::string_view text);

struct ProcStatus {
  std::string name;
  uid_t uid = 0, euid = 0;
  gid_t gid = 0, egid = 0;
  uint32_t threads = 0;
  std::vector<pid_t> ns_pids;  // NSpid: outermost namespace first, the process's own last
};
// /proc/PID/status (also /proc/PID/task/TID/status).
std::optional<ProcStatus> parseProcStatus(std::string_view text);

// NUL-separated lists: /proc/PID/cmdline and /proc/PID/environ. A missing final NUL is fine.
std::vector<std::string> splitNulList(std::string_view text);

// Non-empty lines.
std::vector<std::string> splitLines(std::string_view text);

// /proc/PID/limits: its columns are found from the header line.
std::vector<v1::ResourceLimit> parseProcLimits(std::string_view text);

// /proc/PID/maps: the file-backed mappings ("[heap]"-like pseudo paths and anonymous ones are
// only counted, in `total`).
std::vector<v1::MemoryMapping> parseProcMaps(std::string_view text, uint32_t* total);

// "btime" of /proc/stat: the boot time in seconds since the epoch.
std::optional<int64_t> parseBootTime(std::string_view proc_stat_text);

// readlink of /proc/PID/exe: " (deleted)" at the end means the file was replaced or removed.
struct ExeLink {
  std::string path;
  bool deleted = false;
};
ExeLink parseExeLink(std::string_view link);

}  // namespace vigie::coredump
