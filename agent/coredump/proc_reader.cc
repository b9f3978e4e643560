#include "agent/coredump/proc_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "agent/coredump/file_io.h"
#include "agent/coredump/proc_parsers.h"
#include "agent/coredump/redaction.h"

namespace vigie::coredump {
namespace {

constexpr size_t kMaxListBytes = 256 * 1024;  // cmdline, environ
constexpr size_t kMaxMapsBytes = 4 * 1024 * 1024;
constexpr size_t kMaxSmallBytes = 64 * 1024;

}  // namespace

ProcessCapture readCrashedProcess(pid_t pid, pid_t tid, const RedactionRules& rules,
                                  const std::string& proc) {
  ProcessCapture capture;
  v1::CrashProcess& process = capture.process;
  process.set_pid(pid);
  process.set_tid(tid);

  const std::string dir = proc + "/" + std::to_string(pid);
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) {
    const int err = errno;
    capture.vanished = (err == ENOENT || err == ESRCH);
    capture.errors.push_back(capture.vanished ? dir + " is gone: the process no longer exists"
                                              : Error::fromErrno("open " + dir, err).message);
    return capture;
  }
  const int d = dir_fd.get();
  auto note = [&](const Error& error) { capture.errors.push_back(dir + ": " + error.message); };

  if (auto link = readLinkAt(d, "exe"); link.ok()) {
    const ExeLink exe = parseExeLink(*link);
    process.set_exe(exe.path);
    process.set_exe_deleted(exe.deleted);
  } else {
    note(link.error());
  }
  capture.exe_fd.reset(::openat(d, "exe", O_RDONLY | O_CLOEXEC));
  if (!capture.exe_fd) {
    note(Error::fromErrno("open exe"));
  }

  if (auto text = readSmallFile(d, "cmdline", kMaxListBytes); text.ok()) {
    std::vector<std::string> args = splitNulList(*text);
    process.set_redacted_count(process.redacted_count() +
                               static_cast<uint32_t>(redactArguments(args, rules.arg_patterns)));
    for (auto& arg : args) {
      process.add_cmdline(std::move(arg));
    }
  } else {
    note(text.error());
  }

  if (auto link = readLinkAt(d, "cwd"); link.ok()) {
    process.set_cwd(*link);
  } else {
    note(link.error());
  }

  if (auto text = readSmallFile(d, "environ", kMaxListBytes); text.ok()) {
    std::vector<std::string> environ = splitNulList(*text);
    process.set_redacted_count(process.redacted_count() + static_cast<uint32_t>(redactEnviron(
                                                              environ, rules.env_key_patterns)));
    for (auto& entry : environ) {
      process.add_environ(std::move(entry));
    }
  } else {
    note(text.error());
  }

  if (auto text = readSmallFile(d, "stat", kMaxSmallBytes); text.ok()) {
    if (auto stat = parseProcStat(*text)) {
      process.set_comm(stat->comm);
      process.set_ppid(stat->ppid);
      process.set_pgid(stat->pgid);
      process.set_session_id(stat->session);
      process.set_start_time_ticks(stat->start_ticks);
      const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
      auto boot = readSmallFile(AT_FDCWD, (proc + "/stat").c_str(), kMaxMapsBytes);
      const auto btime = boot.ok() ? parseBootTime(*boot) : std::nullopt;
      if (btime && ticks_per_second > 0) {
        const uint64_t tps = static_cast<uint64_t>(ticks_per_second);
        auto* start = process.mutable_start_time();
        start->set_seconds(*btime + static_cast<int64_t>(stat->start_ticks / tps));
        start->set_nanos(static_cast<int32_t>((stat->start_ticks % tps) * 1000000000ULL / tps));
      }
    } else {
      note(Error{"stat: unexpected format"});
    }
  } else {
    note(text.error());
  }

  if (auto text = readSmallFile(d, "status", kMaxSmallBytes); text.ok()) {
    if (auto status = parseProcStatus(*text)) {
      process.set_uid(status->uid);
      process.set_euid(status->euid);
      process.set_gid(status->gid);
      process.set_egid(status->egid);
      process.set_threads(status->threads);
      if (!status->ns_pids.empty()) {
        process.set_ns_pid(status->ns_pids.back());
      }
      if (process.comm().empty()) {
        process.set_comm(status->name);
      }
    } else {
      note(Error{"status: unexpected format"});
    }
  } else {
    note(text.error());
  }

  const std::string task_status = "task/" + std::to_string(tid) + "/status";
  if (auto text = readSmallFile(d, task_status.c_str(), kMaxSmallBytes); text.ok()) {
    if (auto status = parseProcStatus(*text); status && !status->ns_pids.empty()) {
      process.set_ns_tid(status->ns_pids.back());
    }
  } else {
    note(text.error());
  }

  if (auto text = readSmallFile(d, "cgroup", kMaxSmallBytes); text.ok()) {
    for (auto& line : splitLines(*text)) {
      process.add_cgroups(std::move(line));
    }
  } else {
    note(text.error());
  }

  if (auto text = readSmallFile(d, "limits", kMaxSmallBytes); text.ok()) {
    for (auto& limit : parseProcLimits(*text)) {
      *process.add_limits() = std::move(limit);
    }
  } else {
    note(text.error());
  }

  if (auto text = readSmallFile(d, "maps", kMaxMapsBytes); text.ok()) {
    uint32_t total = 0;
    for (auto& mapping : parseProcMaps(*text, &total)) {
      *process.add_mappings() = std::move(mapping);
    }
    process.set_mappings_total(total);
  } else {
    note(text.error());
  }

  if (auto link = readLinkAt(d, "root"); link.ok()) {
    process.set_root(*link);
  } else {
    note(link.error());
  }
  capture.root_fd.reset(::openat(d, "root", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (capture.root_fd) {
    struct stat theirs {
    }, ours{};
    if (::fstat(capture.root_fd.get(), &theirs) == 0 && ::stat("/", &ours) == 0) {
      process.set_in_container(theirs.st_dev != ours.st_dev || theirs.st_ino != ours.st_ino);
    }
  } else {
    note(Error::fromErrno("open root"));
  }
  return capture;
}

}  // namespace vigie::coredump
