#include "agent/cli/crash_table.h"

#include <fmt/core.h>

#include <map>

#include "agent/cli/crash_words.h"
#include "agent/cli/human.h"
#include "agent/cli/table.h"

namespace vigie::cli {

std::string renderCrashList(const v1::ListCrashesResponse& response, bool color, bool filtered) {
  if (response.crashes_size() == 0) {
    return filtered ? "No crash incident matches these filters.\n"
                    : "No crash incidents on record.\n";
  }
  std::map<std::string, uint64_t> counts;
  for (const v1::CrashGroup& group : response.groups()) {
    counts[group.fingerprint()] = group.count();
  }
  Table table({"ID", "TIME", "UNIT", "REASON", "SIGNAL", "STATUS", "CORE", "FINGERPRINT", "COUNT"});
  for (const v1::CrashSummary& crash : response.crashes()) {
    const auto count = counts.find(crash.fingerprint());
    table.addRow({
        {crash.id()},
        {crash.has_time() ? localTime(fromProto(crash.time())) : "-"},
        {crashUnitText(crash)},
        {crash.reason().empty() ? "-" : crash.reason()},
        {crashSignalText(crash)},
        {crashStatusName(crash.status()), crashStatusStyle(crash.status())},
        {crashCoreText(crash)},
        {shortFingerprint(crash.fingerprint())},
        {count == counts.end() ? "-" : std::to_string(count->second)},
    });
  }
  std::string out = table.render(color);
  if (response.matched() > static_cast<uint32_t>(response.crashes_size())) {
    out += fmt::format("(the newest {} of {} matching incidents; --limit shows more)\n",
                       response.crashes_size(), response.matched());
  }
  return out;
}

}  // namespace vigie::cli
