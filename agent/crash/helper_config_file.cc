#include "agent/crash/helper_config_file.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <filesystem>

#include "agent/crash/durable_files.h"
#include "vigie/v1/crash.pb.h"

namespace vigie::crash {

namespace pbu = google::protobuf::util;

std::string helperConfigJson(const CrashSpec& spec, const std::string& spool_dir,
                             const std::string& forward) {
  v1::CoredumpHelperConfig config;
  config.set_spool_dir(spool_dir);
  config.set_intake_socket(spec.intake_socket);
  config.set_core_size_max(spec.core_size_max);
  *config.mutable_capture_timeout() = pbu::TimeUtil::NanosecondsToDuration(
      std::chrono::duration_cast<std::chrono::nanoseconds>(spec.capture_timeout).count());
  for (const auto& pattern : spec.redact_env) {
    config.add_redact_env(pattern);
  }
  for (const auto& pattern : spec.redact_args) {
    config.add_redact_args(pattern);
  }
  config.set_forward(forward);
  config.mutable_rate_limit()->set_burst(spec.rate_burst);
  *config.mutable_rate_limit()->mutable_interval() = pbu::TimeUtil::NanosecondsToDuration(
      std::chrono::duration_cast<std::chrono::nanoseconds>(spec.rate_interval).count());
  pbu::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = true;
  std::string json;
  // Cannot fail for a message without Any fields.
  (void)pbu::MessageToJsonString(config, &json, options);
  return json;
}

Status writeHelperConfig(const CrashSpec& spec, const std::string& spool_dir,
                         const std::string& forward) {
  const std::filesystem::path path(spec.helper_config);
  const std::string dir = path.parent_path().empty() ? "." : path.parent_path().string();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Error{"create " + dir + ": " + ec.message(), ec.value()};
  }
  return replaceFileDurably(dir, path.filename().string(),
                            helperConfigJson(spec, spool_dir, forward), 0600);
}

std::string forwardPattern(const CrashSpec& spec, const std::string& previous,
                           const std::string& ours) {
  if (!spec.forward_previous || previous.empty() || previous.front() != '|' || previous == ours) {
    return "";
  }
  return previous;
}

}  // namespace vigie::crash
