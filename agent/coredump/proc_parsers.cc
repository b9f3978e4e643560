#include "agent/coredump/proc_parsers.h"

#include <charconv>
#include <cstdlib>

namespace vigie::coredump {
namespace {

template <class T>
bool parseNumber(std::string_view text, T& out, int base = 10) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out, base);
  return ec == std::errc() && ptr == end;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

std::vector<std::string_view> splitWords(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) {
      ++i;
    }
    const size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') {
      ++i;
    }
    if (i > start) {
      words.push_back(text.substr(start, i - start));
    }
  }
  return words;
}

std::vector<std::string_view> lineViews(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    if (!line.empty()) {
      lines.push_back(line);
    }
    if (newline == std::string_view::npos) {
      break;
    }
    text.remove_prefix(newline + 1);
  }
  return lines;
}

}  // namespace

std::optional<ProcStat> parseProcStat(std::string_view text) {
  const size_t open = text.find('(');
  const size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  ProcStat stat;
  stat.comm = std::string(text.substr(open + 1, close - open - 1));
  // Fields after the comm, numbered from 3 (state).
  const auto fields = splitWords(text.substr(close + 1));
  if (fields.size() < 20 || fields[0].size() != 1) {
    return std::nullopt;
  }
  stat.state = fields[0][0];
  if (!parseNumber(fields[1], stat.ppid) || !parseNumber(fields[2], stat.pgid) ||
      !parseNumber(fields[3], stat.session) || !parseNumber(fields[19], stat.start_ticks)) {
    return std::nullopt;
  }
  return stat;
}

std::optional<ProcStatus> parseProcStatus(std::string_view text) {
  ProcStatus status;
  bool saw_uid = false;
  for (const auto line : lineViews(text)) {
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    const std::string_view key = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    const auto words = splitWords(value);
    if (key == "Name") {
      status.name = std::string(value);
    } else if (key == "Uid" && words.size() >= 2) {
      saw_uid = parseNumber(words[0], status.uid) && parseNumber(words[1], status.euid);
    } else if (key == "Gid" && words.size() >= 2) {
      (void)(parseNumber(words[0], status.gid) && parseNumber(words[1], status.egid));
    } else if (key == "Threads") {
      (void)parseNumber(value, status.threads);
    } else if (key == "NSpid") {
      for (const auto word : words) {
        pid_t pid = 0;
        if (parseNumber(word, pid)) {
          status.ns_pids.push_back(pid);
        }
      }
    }
  }
  if (!saw_uid) {
    return std::nullopt;
  }
  return status;
}

std::vector<std::string> splitNulList(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    const size_t nul = text.find('\0');
    items.emplace_back(text.substr(0, nul));
    if (nul == std::string_view::npos) {
      break;
    }
    text.remove_prefix(nul + 1);
  }
  return items;
}

std::vector<std::string> splitLines(std::string_view text) {
  std::vector<std::string> lines;
  for (const auto line : lineViews(text)) {
    lines.emplace_back(line);
  }
  return lines;
}

std::vector<v1::ResourceLimit> parseProcLimits(std::string_view text) {
  std::vector<v1::ResourceLimit> limits;
  const auto lines = lineViews(text);
  if (lines.empty()) {
    return limits;
  }
  const std::string_view header = lines[0];
  const size_t soft_col = header.find("Soft Limit");
  const size_t hard_col = header.find("Hard Limit");
  const size_t units_col = header.find("Units");
  if (soft_col == std::string_view::npos || hard_col == std::string_view::npos ||
      units_col == std::string_view::npos || !(soft_col < hard_col && hard_col < units_col)) {
    return limits;
  }
  auto column = [](std::string_view line, size_t from, size_t to) {
    if (from >= line.size()) {
      return std::string_view();
    }
    return trim(line.substr(from, to == std::string_view::npos ? to : to - from));
  };
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    v1::ResourceLimit limit;
    limit.set_name(std::string(column(line, 0, soft_col)));
    const std::string_view soft = column(line, soft_col, hard_col);
    const std::string_view hard = column(line, hard_col, units_col);
    limit.set_unit(std::string(column(line, units_col, std::string_view::npos)));
    uint64_t value = 0;
    if (soft != "unlimited" && parseNumber(soft, value)) {
      limit.set_soft(value);
    }
    if (hard != "unlimited" && parseNumber(hard, value)) {
      limit.set_hard(value);
    }
    if (!limit.name().empty()) {
      limits.push_back(std::move(limit));
    }
  }
  return limits;
}

std::vector<v1::MemoryMapping> parseProcMaps(std::string_view text, uint32_t* total) {
  std::vector<v1::MemoryMapping> mappings;
  uint32_t count = 0;
  for (const auto line : lineViews(text)) {
    // start-end perms offset dev inode path (the path may hold spaces)
    const auto words = splitWords(line);
    if (words.size() < 5) {
      continue;
    }
    ++count;
    if (words.size() < 6) {
      continue;
    }
    const size_t path_start = static_cast<size_t>(words[5].data() - line.data());
    const std::string_view path = trim(line.substr(path_start));
    if (path.empty() || path.front() != '/') {
      continue;  // [heap], [stack], [vdso]...
    }
    const size_t dash = words[0].find('-');
    uint64_t start = 0, end = 0, offset = 0;
    if (dash == std::string_view::npos || !parseNumber(words[0].substr(0, dash), start, 16) ||
        !parseNumber(words[0].substr(dash + 1), end, 16) || !parseNumber(words[2], offset, 16)) {
      continue;
    }
    v1::MemoryMapping mapping;
    mapping.set_start(start);
    mapping.set_end(end);
    mapping.set_perms(std::string(words[1]));
    mapping.set_offset(offset);
    mapping.set_path(std::string(path));
    mappings.push_back(std::move(mapping));
  }
  if (total != nullptr) {
    *total = count;
  }
  return mappings;
}

std::optional<int64_t> parseBootTime(std::string_view proc_stat_text) {
  for (const auto line : lineViews(proc_stat_text)) {
    if (line.substr(0, 6) == "btime ") {
      int64_t value = 0;
      if (parseNumber(trim(line.substr(6)), value)) {
        return value;
      }
    }
  }
  return std::nullopt;
}

ExeLink parseExeLink(std::string_view link) {
  constexpr std::string_view kDeleted = " (deleted)";
  ExeLink exe;
  if (link.size() > kDeleted.size() && link.substr(link.size() - kDeleted.size()) == kDeleted) {
    exe.deleted = true;
    link.remove_suffix(kDeleted.size());
  }
  exe.path = std::string(link);
  return exe;
}

}  // namespace vigie::coredump
