#pragma once

#include <memory>
#include <string>

#include "agent/api/service/output_hub.h"
#include "vigie/output.h"

namespace vigie {

// An OutputRouter in front of another one (the LogRouter's files and journald): every unit's
// output goes to it unchanged, and also to the OutputHub for the ReadOutput followers. The
// supervisor is given the tee instead of the router. The hub must outlive the units' outputs.
class OutputTee final : public OutputRouter {
 public:
  // `next` (optional) is the router the output goes to besides the hub.
  OutputTee(OutputRouter* next, OutputHub& hub) : next_(next), hub_(hub) {}

  std::unique_ptr<UnitOutput> open(const std::string& unit, const OutputSpec& spec) override;

 private:
  OutputRouter* next_;
  OutputHub& hub_;
};

}  // namespace vigie
