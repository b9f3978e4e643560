#include "agent/coredump/redaction.h"

#include <fnmatch.h>

namespace vigie::coredump {
namespace {

bool matchesAny(const std::vector<std::string>& patterns, const std::string& text,
                bool with_equals) {
  for (const auto& pattern : patterns) {
    if ((pattern.find('=') != std::string::npos) != with_equals) {
      continue;
    }
    if (::fnmatch(pattern.c_str(), text.c_str(), FNM_CASEFOLD) == 0) {
      return true;
    }
  }
  return false;
}

}  // namespace

size_t redactEnviron(std::vector<std::string>& environ,
                     const std::vector<std::string>& key_patterns) {
  size_t redacted = 0;
  for (auto& entry : environ) {
    const size_t equals = entry.find('=');
    if (equals == std::string::npos) {
      continue;
    }
    const std::string key = entry.substr(0, equals);
    for (const auto& pattern : key_patterns) {
      if (::fnmatch(pattern.c_str(), key.c_str(), FNM_CASEFOLD) == 0) {
        entry = key + "=" + std::string(kRedacted);
        ++redacted;
        break;
      }
    }
  }
  return redacted;
}

size_t redactArguments(std::vector<std::string>& args, const std::vector<std::string>& patterns) {
  size_t redacted = 0;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string& arg = args[i];
    const size_t equals = arg.find('=');
    if (equals != std::string::npos && matchesAny(patterns, arg, /*with_equals=*/true)) {
      arg = arg.substr(0, equals + 1) + std::string(kRedacted);
      ++redacted;
      continue;
    }
    if (matchesAny(patterns, arg, /*with_equals=*/false) && i + 1 < args.size()) {
      args[i + 1] = std::string(kRedacted);
      ++redacted;
      ++i;
    }
  }
  return redacted;
}

}  // namespace vigie::coredump
