#include "agent/api/service/unit_names.h"

#include <algorithm>
#include <numeric>

namespace vigie {
namespace {

constexpr size_t kNamesListed = 10;

}  // namespace

size_t editDistance(std::string_view a, std::string_view b) {
  // Three rows: a transposition looks two rows back.
  std::vector<size_t> before(b.size() + 1);
  std::vector<size_t> previous(b.size() + 1);
  std::vector<size_t> row(b.size() + 1);
  std::iota(previous.begin(), previous.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({previous[j] + 1, row[j - 1] + 1, substitution});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        row[j] = std::min(row[j], before[j - 2] + 1);
      }
    }
    before.swap(previous);
    previous.swap(row);
  }
  return previous[b.size()];
}

std::string unknownUnitMessage(std::string_view name, const std::vector<std::string>& known) {
  std::string message = "no unit named \"" + std::string(name) + "\"";
  if (known.empty()) {
    return message + ": the agent has no units";
  }
  // A typo is at most a third of the name (and at least one edit) away.
  const size_t tolerance = std::max<size_t>(1, name.size() / 3);
  const std::string* best = nullptr;
  size_t best_distance = tolerance + 1;
  for (const std::string& candidate : known) {
    const size_t distance = editDistance(name, candidate);
    if (distance < best_distance) {
      best = &candidate;
      best_distance = distance;
    }
  }
  if (best != nullptr) {
    return message + " (did you mean \"" + *best + "\"?)";
  }
  message += "; units: ";
  for (size_t i = 0; i < known.size() && i < kNamesListed; ++i) {
    message += (i == 0 ? "" : ", ") + known[i];
  }
  if (known.size() > kNamesListed) {
    message += ", and " + std::to_string(known.size() - kNamesListed) + " more";
  }
  return message;
}

}  // namespace vigie
