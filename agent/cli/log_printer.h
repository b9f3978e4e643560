#pragma once

#include <cstdint>
#include <string>

#include "vigie/v1/agent.pb.h"

namespace vigie::cli {

// Turns ReadOutput chunks into what `vigiectl logs` writes. The workload's bytes go to stdout as
// they are. On a TTY, dim marker lines say where an instance begins and ends (follow mode) or
// which stream follows (both streams, no follow); off a TTY stdout carries only the workload's
// bytes. Lost bytes are reported on stderr.
class LogPrinter {
 public:
  struct Options {
    bool decorate = false;  // stdout is a TTY
    bool color = false;
    bool follow = false;
    bool both_streams = false;
  };
  struct Output {
    std::string out;  // for stdout
    std::string err;  // for stderr
  };

  explicit LogPrinter(Options options) : options_(options) {}

  // Everything but the end-of-instance marker, which needs the exit reason (see endMarker).
  Output onChunk(const v1::ReadOutputResponse& chunk);
  // The marker after an instance's last output, in follow mode on a TTY ("" otherwise). `reason`
  // may be empty when the agent did not say yet.
  std::string endMarker(uint64_t instance_id, const std::string& reason);

 private:
  std::string marker(const std::string& text);

  Options options_;
  uint64_t instance_id_ = 0;
  v1::OutputStream stream_ = v1::OUTPUT_STREAM_UNSPECIFIED;
  bool at_line_start_ = true;
};

}  // namespace vigie::cli
