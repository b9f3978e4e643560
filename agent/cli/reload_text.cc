#include "agent/cli/reload_text.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <vector>

namespace vigie::cli {
namespace {

// Names are listed while they fit on a line; past that, the count says enough.
constexpr int kNamesListed = 5;

void appendGroup(std::vector<std::string>& parts, std::string_view verb,
                 const google::protobuf::RepeatedPtrField<std::string>& names, bool list_names) {
  if (names.empty()) {
    return;
  }
  std::string part = fmt::format("{} {}", names.size(), verb);
  if (list_names && names.size() <= kNamesListed) {
    part += fmt::format(" ({})", fmt::join(names, ", "));
  }
  parts.push_back(std::move(part));
}

}  // namespace

std::string describeReloadSummary(const v1::ReloadSummary& summary) {
  std::vector<std::string> parts;
  appendGroup(parts, "added", summary.added(), true);
  appendGroup(parts, "removed", summary.removed(), true);
  appendGroup(parts, "restarted", summary.restarted(), true);
  appendGroup(parts, "updated in place", summary.updated(), true);
  appendGroup(parts, "unchanged", summary.unchanged(), false);
  if (parts.empty()) {
    return "nothing changed";
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string renderConfigErrors(const v1::ReloadConfigResponse& response) {
  std::string out;
  for (const v1::ConfigError& error : response.errors()) {
    const v1::SourceLocation& at = error.location();
    if (at.file().empty()) {
      out += error.message() + "\n";
    } else {
      out += fmt::format("{}:{}:{}: {}\n", at.file(), at.line(), at.column(), error.message());
    }
  }
  return out;
}

}  // namespace vigie::cli
