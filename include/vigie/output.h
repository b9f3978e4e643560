#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "vigie/config.h"

namespace vigie {

enum class OutputStream { kStdout, kStderr };

// Where a unit's output goes besides its in-memory tails: rotating files, journald. One per unit,
// living across its instances. Called on the loop thread and must never block it: slow I/O
// happens elsewhere, and what cannot keep up is dropped and counted, never buffered without
// bound.
class UnitOutput {
 public:
  virtual ~UnitOutput() = default;
  virtual void instanceStarted(uint64_t instance_id, pid_t pid) = 0;
  virtual void write(OutputStream stream, uint64_t instance_id, std::string_view data) = 0;
};

// Opens the output of a unit according to its spec.
class OutputRouter {
 public:
  virtual ~OutputRouter() = default;
  virtual std::unique_ptr<UnitOutput> open(const std::string& unit, const OutputSpec& spec) = 0;
};

}  // namespace vigie
