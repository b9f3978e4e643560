#include "vigie/config.h"

namespace vigie {
namespace {

bool sameRlimits(const std::vector<RlimitSpec>& a, const std::vector<RlimitSpec>& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].resource != b[i].resource || a[i].soft != b[i].soft || a[i].hard != b[i].hard) {
      return false;
    }
  }
  return true;
}

bool sameOutputDestinations(const OutputSpec& a, const OutputSpec& b) {
  return a.file == b.file && a.journal == b.journal;
}

}  // namespace

bool processDefinitionDiffers(const WorkloadSpec& a, const WorkloadSpec& b) {
  return a.exec != b.exec || a.env != b.env || a.cwd != b.cwd || a.user != b.user ||
         a.group != b.group || a.umask != b.umask || !sameRlimits(a.rlimits, b.rlimits) ||
         a.oom_score_adj != b.oom_score_adj || a.core != b.core ||
         !sameOutputDestinations(a.output, b.output) || a.notify != b.notify ||
         a.watchdog != b.watchdog || a.container != b.container;
}

}  // namespace vigie
