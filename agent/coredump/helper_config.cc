#include "agent/coredump/helper_config.h"

#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <unistd.h>

#include <cerrno>

#include "agent/coredump/file_io.h"
#include "vigie/v1/crash.pb.h"

namespace vigie::coredump {
namespace {

namespace pbu = google::protobuf::util;

// The config file is small; anything bigger is not ours.
constexpr size_t kMaxConfigBytes = 1 << 20;

Result<std::chrono::milliseconds> positiveDuration(const google::protobuf::Duration& d,
                                                   const char* field) {
  const int64_t ms = pbu::TimeUtil::DurationToMilliseconds(d);
  if (ms <= 0) {
    return Error{std::string(field) + " must be positive"};
  }
  return std::chrono::milliseconds(ms);
}

}  // namespace

Result<HelperConfig> parseHelperConfig(std::string_view json) {
  v1::CoredumpHelperConfig message;
  pbu::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const auto status = pbu::JsonStringToMessage(std::string(json), &message, options);
  if (!status.ok()) {
    return Error{"not a valid config: " + std::string(status.message())};
  }

  HelperConfig config;
  if (!message.spool_dir().empty()) {
    if (message.spool_dir().front() != '/') {
      return Error{"spool_dir must be an absolute path"};
    }
    config.spool_dir = message.spool_dir();
  }
  if (!message.intake_socket().empty()) {
    if (message.intake_socket().front() != '/') {
      return Error{"intake_socket must be an absolute path"};
    }
    config.intake_socket = message.intake_socket();
  }
  if (message.has_core_size_max()) {
    config.core_size_max = message.core_size_max();
  }
  if (message.has_capture_timeout()) {
    auto timeout = positiveDuration(message.capture_timeout(), "capture_timeout");
    if (!timeout.ok()) {
      return timeout.error();
    }
    config.capture_timeout = *timeout;
  }
  if (message.redact_env_size() > 0) {
    config.redact_env.assign(message.redact_env().begin(), message.redact_env().end());
  }
  if (message.redact_args_size() > 0) {
    config.redact_args.assign(message.redact_args().begin(), message.redact_args().end());
  }
  if (!message.forward().empty()) {
    const std::string& forward = message.forward();
    // The kernel's own rule for pipe patterns: '|' then an absolute program path.
    if (forward.size() < 3 || forward[0] != '|' || forward[1] != '/') {
      return Error{"forward must be a pipe pattern: '|/absolute/path args...'"};
    }
    config.forward = forward;
  }
  if (message.has_rate_limit()) {
    const auto& limit = message.rate_limit();
    if (limit.has_burst()) {
      config.rate_burst = limit.burst();
    }
    if (limit.has_interval()) {
      auto interval = positiveDuration(limit.interval(), "rate_limit.interval");
      if (!interval.ok()) {
        return interval.error();
      }
      config.rate_interval = std::chrono::duration_cast<std::chrono::seconds>(*interval);
      if (config.rate_interval.count() == 0) {
        config.rate_interval = std::chrono::seconds(1);
      }
    }
  }
  if (message.has_compression_level()) {
    if (message.compression_level() < 1 || message.compression_level() > 19) {
      return Error{"compression_level must be within 1..19"};
    }
    config.compression_level = message.compression_level();
  }
  return config;
}

LoadedConfig loadHelperConfig(const std::string& path) {
  LoadedConfig loaded;
  auto text = readSmallFile(AT_FDCWD, path.c_str(), kMaxConfigBytes);
  if (!text.ok()) {
    loaded.defaults_used = true;
    loaded.warning = "config " + path + ": " + text.error().message + "; using defaults";
    return loaded;
  }
  auto parsed = parseHelperConfig(*text);
  if (!parsed.ok()) {
    loaded.defaults_used = true;
    loaded.warning = "config " + path + ": " + parsed.error().message + "; using defaults";
    return loaded;
  }
  loaded.config = std::move(*parsed);
  return loaded;
}

}  // namespace vigie::coredump
