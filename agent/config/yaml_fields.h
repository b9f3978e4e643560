// Private to the config loader: reading YAML nodes into typed values while collecting every
// error with its position, instead of stopping (or throwing) at the first one.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/config.h"

namespace vigie::config_detail {

// The errors found in one file.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }

  void report(const YAML::Mark& mark, std::string message);
  // yaml-cpp marks are 0-based; a null mark (no position known) becomes line 0.
  SourceLocation locate(const YAML::Mark& mark) const;
  // The errors ordered by position, so they read top to bottom like the file.
  std::vector<ConfigError> take();

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

// A value to read, with where to point at it and its key path for messages
// ("workloads[0].stop.timeout").
struct Field {
  YAML::Node node;
  YAML::Mark mark;
  std::string path;

  // An element of a sequence: `this` is the sequence.
  Field element(const YAML::Node& item, size_t index) const;
};

// One key/value pair of a map.
struct MapEntry {
  std::string key;
  YAML::Mark key_mark;
  YAML::Node value;

  // The value as a field under `parent_path`. yaml-cpp marks an empty value ("exec:") at the
  // next token, often a line below, so errors about empty values point at the key instead.
  Field field(std::string_view parent_path) const;
};

// The entries of a map, in file order. yaml-cpp keeps duplicate keys silently; they are
// reported here (and only the first one kept), as are keys that are not plain strings.
class MapView {
 public:
  MapView(const YAML::Node& map, Diagnostics& diag);

  const MapEntry* find(std::string_view key) const;
  const std::vector<MapEntry>& entries() const { return entries_; }

  // Reports every key not in `known` as `unknown key "k" <context>`, suggesting the closest
  // known key for likely typos.
  void reportUnknownKeys(std::initializer_list<std::string_view> known, std::string_view context,
                         Diagnostics& diag) const;
  void reportUnknownKeys(std::span<const std::string_view> known, std::string_view context,
                         Diagnostics& diag) const;

 private:
  std::vector<MapEntry> entries_;
};

// The candidate closest to `word`, if it is within two edits (a swap of neighbours counts one).
std::optional<std::string_view> closestMatch(std::string_view word,
                                             std::initializer_list<std::string_view> candidates);
std::optional<std::string_view> closestMatch(std::string_view word,
                                             std::span<const std::string_view> candidates);

// Readers: each returns the value, or reports "<path>: <problem>" and returns nullopt.
// A null node counts as "absent" only where a caller checks isAbsent() first.
bool isAbsent(const Field& field);
bool expectMap(const Field& field, Diagnostics& diag);
bool expectList(const Field& field, Diagnostics& diag);
std::optional<std::string> readString(const Field& field, Diagnostics& diag);
std::optional<std::string> readAbsolutePath(const Field& field, Diagnostics& diag);
// YAML 1.2 core booleans: true, True, TRUE, false, False, FALSE.
std::optional<bool> boolFromText(std::string_view text);
std::optional<bool> readBool(const Field& field, Diagnostics& diag);
std::optional<int64_t> readInteger(const Field& field, int64_t min, int64_t max, Diagnostics& diag);
std::optional<Duration> readDuration(const Field& field, Diagnostics& diag);
std::optional<uint64_t> readSize(const Field& field, Diagnostics& diag);
std::optional<int> readSignal(const Field& field, Diagnostics& diag);

// Reports "<path>: <message>" at the field.
void reportAt(const Field& field, std::string_view message, Diagnostics& diag);

template <class T, class U>
void assignIfPresent(T& target, const std::optional<U>& value) {
  if (value) {
    target = *value;
  }
}

}  // namespace vigie::config_detail
