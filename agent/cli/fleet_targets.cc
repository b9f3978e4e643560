#include "agent/cli/fleet_targets.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

namespace vigie::cli {
namespace {

constexpr std::string_view kUnixPrefix = "unix:";
constexpr std::string_view kBlanks = " \t\r";

std::vector<std::string_view> splitWords(std::string_view line) {
  std::vector<std::string_view> words;
  size_t at = 0;
  while (true) {
    at = line.find_first_not_of(kBlanks, at);
    if (at == std::string_view::npos) {
      return words;
    }
    const size_t end = std::min(line.find_first_of(kBlanks, at), line.size());
    words.push_back(line.substr(at, end - at));
    at = end;
  }
}

bool validPort(std::string_view text) {
  unsigned port = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  return error == std::errc{} && end == text.data() + text.size() && port >= 1 && port <= 65535;
}

// Why `address` is not a target we can dial, or nothing when it is one.
std::optional<std::string> addressProblem(std::string_view address) {
  if (address.substr(0, kUnixPrefix.size()) == kUnixPrefix) {
    const std::string_view path = address.substr(kUnixPrefix.size());
    if (path.empty() || path.front() != '/') {
      return "\"" + std::string(address) + "\": a unix socket needs an absolute path (unix:/path)";
    }
    return std::nullopt;
  }
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) {
    return "\"" + std::string(address) + "\": expected host:port or unix:/path";
  }
  const std::string_view host = address.substr(0, colon);
  const std::string_view port = address.substr(colon + 1);
  if (host.empty()) {
    return "\"" + std::string(address) + "\": the host is missing";
  }
  if (!validPort(port)) {
    return "\"" + std::string(address) + "\": the port must be a number from 1 to 65535";
  }
  const bool bracketed = host.front() == '[' && host.back() == ']' && host.size() > 2;
  if (!bracketed && host.find_first_of(":[]") != std::string_view::npos) {
    return "\"" + std::string(address) + "\": write an IPv6 host in brackets: [::1]:7443";
  }
  return std::nullopt;
}

}  // namespace

FleetTargetsParse parseFleetTargets(std::string_view text, std::string_view file) {
  FleetTargetsParse parse;
  std::set<std::string, std::less<>> names;
  std::set<std::string, std::less<>> addresses;
  auto fail = [&](size_t line_number, const std::string& message) {
    parse.errors.push_back(std::string(file) + ":" + std::to_string(line_number) + ": " + message);
  };

  size_t line_number = 0;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    line = line.substr(0, line.find('#'));
    const std::vector<std::string_view> words = splitWords(line);
    if (words.empty()) {
      continue;
    }
    if (words.size() > 2) {
      fail(line_number, "expected ADDRESS [NAME], got " + std::to_string(words.size()) + " words");
      continue;
    }
    if (const auto problem = addressProblem(words[0])) {
      fail(line_number, *problem);
      continue;
    }
    FleetTarget target;
    target.address = std::string(words[0]);
    target.name = std::string(words.size() == 2 ? words[1] : words[0]);
    target.unix_socket = words[0].substr(0, kUnixPrefix.size()) == kUnixPrefix;
    if (!addresses.insert(target.address).second) {
      fail(line_number, "address \"" + target.address + "\" is listed twice");
      continue;
    }
    if (!names.insert(target.name).second) {
      fail(line_number, "name \"" + target.name + "\" is used twice");
      continue;
    }
    parse.targets.push_back(std::move(target));
  }
  if (parse.targets.empty() && parse.errors.empty()) {
    parse.errors.push_back(std::string(file) + ": no targets (one ADDRESS [NAME] a line)");
  }
  return parse;
}

FleetTargetsParse loadFleetTargets(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    FleetTargetsParse parse;
    parse.errors.push_back("cannot read targets file " + path + ": " + std::strerror(errno));
    return parse;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parseFleetTargets(text.str(), path);
}

}  // namespace vigie::cli
