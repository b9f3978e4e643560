#pragma once

// Reading samples out of Prometheus exposition text, as a scraper would see them.

#include <doctest/doctest.h>

#include <optional>
#include <sstream>
#include <string>

namespace vigie::testing {

// The value of the sample `series` (name and labels, exactly as exposed), if it is there.
inline std::optional<double> sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

// The value of a sample that must be there; a failure prints the whole text.
inline double sampleValue(const std::string& text, const std::string& series) {
  const std::optional<double> got = sample(text, series);
  INFO("series " << series << " in:\n" << text);
  REQUIRE(got.has_value());
  return *got;
}

}  // namespace vigie::testing
