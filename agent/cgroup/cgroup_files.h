// Reading and writing cgroupfs interface files through fds opened once, and parsing what they
// hold. Every read starts at offset 0 (pread), so one fd serves for the cgroup's whole life.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/os/unique_fd.h"
#include "vigie/result.h"

namespace vigie {

// open(2) relative to a directory fd, O_CLOEXEC added.
UniqueFd openCgroupFile(int dir_fd, const std::string& name, int flags);
Result<std::string> readCgroupFile(int fd);
Status writeCgroupFile(int fd, std::string_view text);
// Open, write, close: for files written rarely (limits).
Status writeCgroupFileAt(int dir_fd, const std::string& name, std::string_view text);
Result<std::string> readCgroupFileAt(int dir_fd, const std::string& name);

// The value of `key` in "key value" lines (memory.events, memory.oom_control, cpu.stat).
std::optional<uint64_t> parseKeyedValue(std::string_view text, std::string_view key);
// A file holding one number ("1234\n"); nullopt for anything else ("max").
std::optional<uint64_t> parseSingleValue(std::string_view text);
// Space- or newline-separated words (cgroup.controllers, cgroup.subtree_control).
std::vector<std::string> parseWords(std::string_view text);
// One pid a line (cgroup.procs).
std::vector<pid_t> parsePids(std::string_view text);

}  // namespace vigie
