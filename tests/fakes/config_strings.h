#pragma once

// Loading configs from YAML strings in tests: the errors formatted as the user sees them, or the
// config of a YAML that must be valid.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "vigie/config.h"

// Lets failed checks on lists of errors print the errors.
template <>
struct doctest::StringMaker<std::vector<std::string>> {
  static doctest::String convert(const std::vector<std::string>& lines) {
    std::string out = "{";
    for (const std::string& line : lines) {
      out += "\n  " + line;
    }
    out += "\n}";
    return out.c_str();
  }
};

namespace vigie::testing {

// The path the configs are loaded as: every formatted error starts with it.
inline constexpr const char* kConfigFile = "vigie.yaml";

// Every error of a config, formatted ("vigie.yaml:LINE:COLUMN: message").
inline std::vector<std::string> errorsOf(const std::string& yaml) {
  ConfigLoadResult result = loadConfigString(yaml, kConfigFile);
  std::vector<std::string> formatted;
  for (const ConfigError& error : result.errors) {
    formatted.push_back(error.format());
  }
  CHECK(result.ok() == formatted.empty());
  return formatted;
}

// Loads a config that must be valid.
inline AgentConfig configOf(const std::string& yaml) {
  ConfigLoadResult result = loadConfigString(yaml, kConfigFile);
  for (const ConfigError& error : result.errors) {
    FAIL_CHECK(error.format());
  }
  REQUIRE(result.ok());
  return result.config;
}

// The only error of a config, formatted.
inline std::string errorOf(const std::string& yaml) {
  const std::vector<std::string> errors = errorsOf(yaml);
  REQUIRE_MESSAGE(errors.size() == 1, doctest::toString(errors));
  return errors[0];
}

// The only workload of a config that must be valid.
inline WorkloadSpec workloadOf(const std::string& yaml) {
  const AgentConfig config = configOf(yaml);
  REQUIRE(config.workloads.size() == 1);
  return config.workloads[0];
}

}  // namespace vigie::testing
