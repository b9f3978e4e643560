#include "agent/cli/log_printer.h"

#include <fmt/core.h>

#include "agent/cli/human.h"
#include "agent/cli/terminal.h"

namespace vigie::cli {

std::string LogPrinter::marker(const std::string& text) {
  std::string out = at_line_start_ ? "" : "\n";
  out += styled("-- " + text + " --", Style::kDim, options_.color) + "\n";
  at_line_start_ = true;
  return out;
}

LogPrinter::Output LogPrinter::onChunk(const v1::ReadOutputResponse& chunk) {
  Output output;
  if (chunk.dropped_bytes() > 0) {
    output.err = fmt::format(
        "vigiectl: {} of instance {}'s output lost here (overwritten in the agent's tail, or "
        "this reader fell behind)\n",
        humanBytes(chunk.dropped_bytes()), chunk.instance_id());
  }
  if (options_.decorate) {
    const bool new_instance = chunk.instance_id() != instance_id_;
    const bool new_stream = chunk.stream() != stream_;
    if (options_.follow && new_instance) {
      output.out += marker(fmt::format("instance {}", chunk.instance_id()));
    } else if (!options_.follow && options_.both_streams && (new_stream || new_instance)) {
      const char* name = chunk.stream() == v1::OUTPUT_STREAM_STDERR ? "stderr" : "stdout";
      output.out += marker(fmt::format("{} of instance {}", name, chunk.instance_id()));
    }
  }
  instance_id_ = chunk.instance_id();
  stream_ = chunk.stream();
  if (!chunk.data().empty()) {
    output.out += chunk.data();
    at_line_start_ = chunk.data().back() == '\n';
  }
  return output;
}

std::string LogPrinter::endMarker(uint64_t instance_id, const std::string& reason) {
  if (!options_.decorate || !options_.follow) {
    return "";
  }
  // The next chunk, even of this same id, starts a fresh marker.
  instance_id_ = 0;
  if (reason.empty()) {
    return marker(fmt::format("instance {} ended", instance_id));
  }
  return marker(fmt::format("instance {} ended: {}", instance_id, reason));
}

}  // namespace vigie::cli
