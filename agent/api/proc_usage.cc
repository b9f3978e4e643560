#include "agent/api/proc_usage.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <utility>

namespace vigie {
namespace {

// Files under /proc are small and have no size: read until EOF, up to a bound.
constexpr size_t kMaxProcFile = size_t{64} * 1024;

std::optional<std::string> readSmallFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::nullopt;
  }
  std::string text;
  char buffer[4096];
  while (text.size() < kMaxProcFile) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

// Cuts the next whitespace-separated token off the front of `text`.
std::string_view nextToken(std::string_view& text) {
  const size_t start = text.find_first_not_of(" \t\n");
  if (start == std::string_view::npos) {
    text = {};
    return {};
  }
  const size_t end = text.find_first_of(" \t\n", start);
  std::string_view token = text.substr(start, end == std::string_view::npos ? end : end - start);
  text = end == std::string_view::npos ? std::string_view{} : text.substr(end);
  return token;
}

template <class T>
std::optional<T> parseNumber(std::string_view token) {
  T value{};
  const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (error != std::errc{} || end != token.data() + token.size()) {
    return std::nullopt;
  }
  return value;
}

// "avg10=0.12" -> 0.12, when the key matches.
template <class T>
std::optional<T> keyValue(std::string_view token, std::string_view key) {
  if (token.size() <= key.size() || token.substr(0, key.size()) != key ||
      token[key.size()] != '=') {
    return std::nullopt;
  }
  return parseNumber<T>(token.substr(key.size() + 1));
}

std::optional<PressureLineSample> parsePressureLine(std::string_view line) {
  PressureLineSample sample;
  nextToken(line);  // "some" or "full"
  auto avg10 = keyValue<double>(nextToken(line), "avg10");
  auto avg60 = keyValue<double>(nextToken(line), "avg60");
  auto avg300 = keyValue<double>(nextToken(line), "avg300");
  auto total = keyValue<uint64_t>(nextToken(line), "total");  // microseconds
  if (!avg10 || !avg60 || !avg300 || !total) {
    return std::nullopt;
  }
  sample.avg10 = *avg10;
  sample.avg60 = *avg60;
  sample.avg300 = *avg300;
  sample.total = std::chrono::microseconds(*total);
  return sample;
}

}  // namespace

std::optional<Duration> parseUptime(std::string_view text) {
  auto seconds = parseNumber<double>(nextToken(text));
  if (!seconds || *seconds < 0) {
    return std::nullopt;
  }
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(*seconds));
}

std::optional<LoadSample> parseLoadavg(std::string_view text) {
  auto one = parseNumber<double>(nextToken(text));
  auto five = parseNumber<double>(nextToken(text));
  auto fifteen = parseNumber<double>(nextToken(text));
  if (!one || !five || !fifteen) {
    return std::nullopt;
  }
  return LoadSample{*one, *five, *fifteen};
}

std::optional<MemorySample> parseMeminfo(std::string_view text) {
  MemorySample sample;
  bool have_total = false;
  bool have_available = false;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    const std::string_view key = nextToken(line);
    auto kib = parseNumber<uint64_t>(nextToken(line));
    if (!kib) {
      continue;
    }
    const uint64_t bytes = *kib * 1024;  // every value we read is in kB.
    if (key == "MemTotal:") {
      sample.total_bytes = bytes;
      have_total = true;
    } else if (key == "MemAvailable:") {
      sample.available_bytes = bytes;
      have_available = true;
    } else if (key == "SwapTotal:") {
      sample.swap_total_bytes = bytes;
    } else if (key == "SwapFree:") {
      sample.swap_free_bytes = bytes;
    }
  }
  if (!have_total || !have_available) {
    return std::nullopt;
  }
  return sample;
}

std::optional<PressureSample> parsePressure(std::string_view text) {
  std::optional<PressureSample> sample;
  std::optional<PressureLineSample> full;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (line.substr(0, 5) == "some ") {
      auto some = parsePressureLine(line);
      if (!some) {
        return std::nullopt;
      }
      sample = PressureSample{*some, std::nullopt};
    } else if (line.substr(0, 5) == "full ") {
      full = parsePressureLine(line);
    }
  }
  if (sample) {
    sample->full = full;
  }
  return sample;
}

ProcUsageReader::ProcUsageReader(std::string state_dir, std::string proc_root)
    : state_dir_(std::move(state_dir)), proc_root_(std::move(proc_root)) {}

std::optional<std::string> ProcUsageReader::readProc(const char* relative) const {
  return readSmallFile(proc_root_ + "/" + relative);
}

UsageSample ProcUsageReader::sample() {
  UsageSample sample;
  if (auto text = readProc("uptime")) {
    sample.uptime = parseUptime(*text);
  }
  if (auto text = readProc("loadavg")) {
    sample.load = parseLoadavg(*text);
  }
  if (auto text = readProc("meminfo")) {
    sample.memory = parseMeminfo(*text);
  }
  if (auto text = readProc("pressure/cpu")) {
    sample.cpu_pressure = parsePressure(*text);
  }
  if (auto text = readProc("pressure/memory")) {
    sample.memory_pressure = parsePressure(*text);
  }
  if (auto text = readProc("pressure/io")) {
    sample.io_pressure = parsePressure(*text);
  }
  struct statvfs fs {};
  if (!state_dir_.empty() && ::statvfs(state_dir_.c_str(), &fs) == 0) {
    sample.state_disk = DiskSample{state_dir_, uint64_t{fs.f_blocks} * fs.f_frsize,
                                   uint64_t{fs.f_bavail} * fs.f_frsize};
  }
  return sample;
}

}  // namespace vigie
