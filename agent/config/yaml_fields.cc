#include "agent/config/yaml_fields.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <utility>

namespace vigie::config_detail {

void Diagnostics::report(const YAML::Mark& mark, std::string message) {
  errors_.push_back(ConfigError{locate(mark), std::move(message)});
}

SourceLocation Diagnostics::locate(const YAML::Mark& mark) const {
  if (mark.is_null() || mark.line < 0) {
    return SourceLocation{file_, 0, 0};
  }
  return SourceLocation{file_, mark.line + 1, mark.column + 1};
}

std::vector<ConfigError> Diagnostics::take() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::pair(a.location.line, a.location.column) <
           std::pair(b.location.line, b.location.column);
  });
  return std::move(errors_);
}

Field Field::element(const YAML::Node& item, size_t index) const {
  // An empty item ("- ") has no position of its own; the list's is the nearest honest one.
  const YAML::Mark item_mark = item.IsNull() ? mark : item.Mark();
  return Field{item, item_mark, fmt::format("{}[{}]", path, index)};
}

Field MapEntry::field(std::string_view parent_path) const {
  std::string path = parent_path.empty() ? key : fmt::format("{}.{}", parent_path, key);
  return Field{value, value.IsNull() ? key_mark : value.Mark(), std::move(path)};
}

MapView::MapView(const YAML::Node& map, Diagnostics& diag) {
  std::map<std::string, int, std::less<>> first_line;
  for (auto it = map.begin(); it != map.end(); ++it) {
    // A copy: the iterator hands out a proxy that dies with the expression.
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      diag.report(key.Mark(), "expected a string as key");
      continue;
    }
    const std::string& name = key.Scalar();
    auto [seen, inserted] = first_line.emplace(name, diag.locate(key.Mark()).line);
    if (!inserted) {
      diag.report(key.Mark(),
                  fmt::format("duplicate key \"{}\" (first at line {})", name, seen->second));
      continue;
    }
    entries_.push_back(MapEntry{name, key.Mark(), it->second});
  }
}

const MapEntry* MapView::find(std::string_view key) const {
  for (const MapEntry& entry : entries_) {
    if (entry.key == key) {
      return &entry;
    }
  }
  return nullptr;
}

void MapView::reportUnknownKeys(std::initializer_list<std::string_view> known,
                                std::string_view context, Diagnostics& diag) const {
  reportUnknownKeys(std::span(known.begin(), known.size()), context, diag);
}

void MapView::reportUnknownKeys(std::span<const std::string_view> known, std::string_view context,
                                Diagnostics& diag) const {
  for (const MapEntry& entry : entries_) {
    if (std::find(known.begin(), known.end(), entry.key) != known.end()) {
      continue;
    }
    std::string message = fmt::format("unknown key \"{}\" {}", entry.key, context);
    if (auto suggestion = closestMatch(entry.key, known)) {
      message += fmt::format(" (did you mean \"{}\"?)", *suggestion);
    }
    diag.report(entry.key_mark, std::move(message));
  }
}

namespace {

// Optimal string alignment distance: Levenshtein plus swaps of adjacent characters, the most
// common typo ("exce" for "exec").
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) {
    d[i][0] = i;
  }
  for (size_t j = 0; j <= b.size(); ++j) {
    d[0][j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

constexpr size_t kMaxSuggestionDistance = 2;

}  // namespace

std::optional<std::string_view> closestMatch(std::string_view word,
                                             std::initializer_list<std::string_view> candidates) {
  return closestMatch(word, std::span(candidates.begin(), candidates.size()));
}

std::optional<std::string_view> closestMatch(std::string_view word,
                                             std::span<const std::string_view> candidates) {
  std::optional<std::string_view> best;
  size_t best_distance = kMaxSuggestionDistance + 1;
  for (std::string_view candidate : candidates) {
    const size_t distance = editDistance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

void reportAt(const Field& field, std::string_view message, Diagnostics& diag) {
  diag.report(field.mark, fmt::format("{}: {}", field.path, message));
}

bool isAbsent(const Field& field) {
  return field.node.IsNull();
}

bool expectMap(const Field& field, Diagnostics& diag) {
  if (field.node.IsMap()) {
    return true;
  }
  reportAt(field, "expected a map", diag);
  return false;
}

bool expectList(const Field& field, Diagnostics& diag) {
  if (field.node.IsSequence()) {
    return true;
  }
  reportAt(field, "expected a list", diag);
  return false;
}

std::optional<std::string> readString(const Field& field, Diagnostics& diag) {
  if (field.node.IsScalar()) {
    return field.node.Scalar();
  }
  reportAt(field, "expected a string", diag);
  return std::nullopt;
}

std::optional<std::string> readAbsolutePath(const Field& field, Diagnostics& diag) {
  std::optional<std::string> path = readString(field, diag);
  if (path && (path->empty() || (*path)[0] != '/')) {
    reportAt(field, fmt::format("\"{}\" is not an absolute path", *path), diag);
    return std::nullopt;
  }
  return path;
}

std::optional<bool> boolFromText(std::string_view text) {
  if (text == "true" || text == "True" || text == "TRUE") {
    return true;
  }
  if (text == "false" || text == "False" || text == "FALSE") {
    return false;
  }
  return std::nullopt;
}

std::optional<bool> readBool(const Field& field, Diagnostics& diag) {
  if (field.node.IsScalar()) {
    if (auto value = boolFromText(field.node.Scalar())) {
      return value;
    }
    reportAt(field, fmt::format("expected true or false, got \"{}\"", field.node.Scalar()), diag);
    return std::nullopt;
  }
  reportAt(field, "expected true or false", diag);
  return std::nullopt;
}

std::optional<int64_t> readInteger(const Field& field, int64_t min, int64_t max,
                                   Diagnostics& diag) {
  const std::string expected = fmt::format("expected an integer between {} and {}", min, max);
  if (!field.node.IsScalar()) {
    reportAt(field, expected, diag);
    return std::nullopt;
  }
  const std::string& text = field.node.Scalar();
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    reportAt(field, fmt::format("{}, got \"{}\"", expected, text), diag);
    return std::nullopt;
  }
  return value;
}

namespace {

// Reads a scalar with one of the value parsers, whose error already quotes the text.
template <class T>
std::optional<T> readParsed(const Field& field, Result<T> (*parse)(const std::string&),
                            std::string_view expected, Diagnostics& diag) {
  if (!field.node.IsScalar()) {
    reportAt(field, expected, diag);
    return std::nullopt;
  }
  Result<T> parsed = parse(field.node.Scalar());
  if (!parsed) {
    reportAt(field, parsed.error().message, diag);
    return std::nullopt;
  }
  return *parsed;
}

}  // namespace

std::optional<Duration> readDuration(const Field& field, Diagnostics& diag) {
  return readParsed<Duration>(field, parseDuration, "expected a duration such as 250ms or 10s",
                              diag);
}

std::optional<uint64_t> readSize(const Field& field, Diagnostics& diag) {
  return readParsed<uint64_t>(field, parseSize, "expected a size such as 64KiB", diag);
}

std::optional<int> readSignal(const Field& field, Diagnostics& diag) {
  return readParsed<int>(field, parseSignal, "expected a signal such as SIGTERM", diag);
}

}  // namespace vigie::config_detail
