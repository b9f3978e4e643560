#pragma once

#include <string>
#include <utility>
#include <vector>

#include "vigie/config.h"

namespace vigie::testing {

// A workload spec with every default, running "/usr/bin/app <arg>".
inline WorkloadSpec testWorkload(const std::string& name, const std::string& arg = "v1") {
  WorkloadSpec spec;
  spec.name = name;
  spec.exec = {"/usr/bin/app", arg};
  return spec;
}

inline AgentConfig configOf(std::vector<WorkloadSpec> specs) {
  AgentConfig config;
  config.workloads = std::move(specs);
  return config;
}

}  // namespace vigie::testing
