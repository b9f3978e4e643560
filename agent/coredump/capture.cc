#include "agent/coredump/capture.h"

#include <fcntl.h>
#include <google/protobuf/util/time_util.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <ctime>

#include "agent/coredump/capture_id.h"
#include "agent/coredump/compressor.h"
#include "agent/coredump/core_layout.h"
#include "agent/coredump/fingerprint.h"
#include "agent/coredump/intake.h"
#include "agent/coredump/kmsg.h"
#include "agent/coredump/rate_limit.h"
#include "agent/coredump/symbolizer.h"

#ifndef VIGIE_VERSION
#define VIGIE_VERSION "unknown"
#endif

namespace vigie::coredump {
namespace {

namespace pbu = google::protobuf::util;
using Clock = std::chrono::steady_clock;

google::protobuf::Duration since(Clock::time_point start) {
  return pbu::TimeUtil::NanosecondsToDuration(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
}

std::string signalName(int signal) {
  const char* abbrev = signal > 0 ? sigabbrev_np(signal) : nullptr;
  return abbrev != nullptr ? std::string("SIG") + abbrev : std::string();
}

std::string bytesText(uint64_t bytes) {
  return std::to_string(bytes) + " bytes";
}

// The kernel's core_pattern specifiers, for a forward pattern.
std::map<char, std::string> specifiers(const HelperArgs& args, const v1::CrashProcess& process) {
  std::string exe_bang = process.exe();
  for (char& c : exe_bang) {
    if (c == '/') {
      c = '!';
    }
  }
  const size_t slash = process.exe().rfind('/');
  return {
      {'P', std::to_string(args.pid)},
      {'p', std::to_string(process.ns_pid() != 0 ? process.ns_pid() : args.pid)},
      {'i', std::to_string(args.tid)},
      {'I', std::to_string(process.ns_tid() != 0 ? process.ns_tid() : args.tid)},
      {'u', std::to_string(process.uid())},
      {'g', std::to_string(process.gid())},
      {'s', std::to_string(args.signal)},
      {'t', std::to_string(args.crash_time)},
      {'h', args.hostname},
      {'e', process.comm()},
      {'E', exe_bang},
      {'f', slash == std::string::npos ? process.exe() : process.exe().substr(slash + 1)},
      {'c', args.core_limit ? std::to_string(*args.core_limit) : "18446744073709551615"},
      {'d', "1"},
      {'C', "0"},
  };
}

}  // namespace

Capture::Capture(HelperArgs args, LoadedConfig config)
    : args_(std::move(args)), config_(std::move(config.config)), started_(Clock::now()) {
  *report_.mutable_timings()->mutable_helper_started() = pbu::TimeUtil::GetCurrentTime();
  const std::time_t id_time = args_.crash_time > 0 ? args_.crash_time : std::time(nullptr);
  report_.set_id(makeCaptureId(id_time, args_.pid, randomTag()));
  report_.set_helper_version(VIGIE_VERSION);
  report_.set_signal(args_.signal);
  report_.set_signal_name(signalName(args_.signal));
  if (args_.crash_time > 0) {
    report_.mutable_crash_time()->set_seconds(args_.crash_time);
  }
  report_.set_hostname(args_.hostname);
  for (const auto& arg : args_.raw) {
    report_.add_helper_args(arg);
  }
  report_.set_config_path(args_.config_path);
  report_.set_config_defaults_used(config.defaults_used);
  if (!config.warning.empty()) {
    addWarning("config", config.warning);
  }
  for (const auto& error : args_.errors) {
    addError("args", error);
  }
  report_.mutable_core()->set_limit_bytes(config_.core_size_max);
}

void Capture::addError(const std::string& stage, const std::string& message) {
  auto* error = report_.add_errors();
  error->set_stage(stage);
  error->set_message(message);
}

void Capture::addWarning(const std::string& stage, const std::string& message) {
  auto* warning = report_.add_warnings();
  warning->set_stage(stage);
  warning->set_message(message);
}

void Capture::collect(int core_fd) {
  // /proc/PID first: once the core is read the process is gone.
  const auto proc_start = Clock::now();
  if (args_.pid > 0) {
    process_ = readCrashedProcess(args_.pid, args_.tid, {config_.redact_env, config_.redact_args});
    for (const auto& message : process_.errors) {
      if (process_.vanished) {
        addError("proc", message);
      } else {
        addWarning("proc", message);
      }
    }
  } else {
    process_.process.set_tid(args_.tid);
    addError("proc", "no valid pid: the process cannot be described");
  }
  *report_.mutable_process() = process_.process;
  *report_.mutable_timings()->mutable_proc_read() = since(proc_start);

  auto entry = SpoolEntry::create(config_.spool_dir, report_.id());
  if (entry.ok()) {
    entry_.emplace(std::move(*entry));
  } else {
    addError("spool", entry.error().message);
  }

  const auto drain_start = Clock::now();
  drain(core_fd);
  *report_.mutable_timings()->mutable_drain() = since(drain_start);
  *report_.mutable_timings()->mutable_drain_finished() = pbu::TimeUtil::GetCurrentTime();
}

void Capture::drain(int core_fd) {
  v1::CoreInfo& core = *report_.mutable_core();
  uint64_t limit = config_.core_size_max;
  if (args_.core_limit) {
    limit = std::min(limit, *args_.core_limit);
  }
  core.set_limit_bytes(limit);
  if (args_.core_limit_known && args_.core_limit && *args_.core_limit == 0) {
    // The process opted out of cores: the kernel calls pipe helpers anyway. Not reading the
    // pipe at all is the fastest way to let it go.
    core.set_state(v1::CORE_STATE_DISABLED);
    core.set_missing_reason("RLIMIT_CORE is 0: the process opted out of core dumps");
    return;
  }

  std::optional<ForwardProcess> forward;
  if (!config_.forward.empty()) {
    auto started =
        startForward(expandPipePattern(config_.forward, specifiers(args_, process_.process)));
    if (started.ok()) {
      forward.emplace(std::move(*started));
    } else {
      addWarning("forward", started.error().message);
    }
  }

  if (entry_) {
    auto scratch = entry_->createScratchFile();
    if (scratch.ok()) {
      scratch_ = std::move(*scratch);
    } else {
      addError("spool", scratch.error().message);
    }
  }
  DrainPlan plan;
  plan.limit = scratch_ ? limit : 0;
  plan.forward_fd = forward ? forward->stdin_pipe.get() : -1;
  if (!scratch_ && plan.forward_fd < 0) {
    core.set_state(v1::CORE_STATE_FAILED);
    core.set_missing_reason("no spool entry to write the core into");
    return;
  }
  drained_ = drainCore(core_fd, scratch_ ? scratch_.get() : -1, plan);
  if (forward) {
    core.set_forwarded(!drained_.forward_error.has_value());
    if (drained_.forward_error) {
      addWarning("forward", *drained_.forward_error);
    }
  }
  core.set_raw_bytes(drained_.stopped_early && drained_.expected_size > drained_.received
                         ? drained_.expected_size
                         : drained_.received);
  if (drained_.error) {
    addError("drain", *drained_.error);
  }
  if (!scratch_) {
    core.set_state(v1::CORE_STATE_FAILED);
    core.set_missing_reason("no spool entry to write the core into");
    return;
  }
  if (drained_.received == 0 && !drained_.error) {
    core.set_state(v1::CORE_STATE_EMPTY);
    core.set_missing_reason("nothing came on stdin");
    return;
  }
  if (drained_.truncated) {
    core.set_truncated(true);
    core.set_state(v1::CORE_STATE_TRUNCATED);
    core.set_missing_reason("the core (" + bytesText(core.raw_bytes()) + ") is over the limit of " +
                            bytesText(limit) + "; a cut core is not kept");
    return;
  }
  if (drained_.error) {
    core.set_state(v1::CORE_STATE_FAILED);
    core.set_missing_reason("the core could not be read whole: " + *drained_.error);
    return;
  }
  core_pending_ = true;
}

bool Capture::readCoreHead() {
  std::string head(static_cast<size_t>(std::min<uint64_t>(drained_.head, 1 << 20)), '\0');
  const ssize_t n = ::pread(scratch_.get(), head.data(), head.size(), 0);
  head.resize(n > 0 ? static_cast<size_t>(n) : 0);
  auto layout = parseCoreLayout(head);
  if (!layout.ok()) {
    addError("notes", layout.error().message);
    if (core_pending_) {
      core_pending_ = false;
      report_.mutable_core()->set_state(v1::CORE_STATE_FAILED);
      report_.mutable_core()->set_missing_reason("what came on stdin is not an ELF core");
    }
    return false;
  }
  if (layout->signal) {
    report_.set_has_signal_info(true);
    report_.set_signal_code(layout->signal->code);
    report_.set_fault_address(layout->signal->address);
  }
  return true;
}

void Capture::symbolize(Clock::time_point deadline) {
  const auto start = Clock::now();
  SymbolizeInput input;
  input.core_fd = scratch_.get();
  input.exe_fd = process_.exe_fd.get();
  input.root_fd = process_.root_fd.get();
  input.in_container = process_.process.in_container();
  input.exe_path = process_.process.exe();
  input.crashed_tid = process_.process.ns_tid();
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - start);
  IsolatedResult result = symbolizeIsolated(input, std::max(left, std::chrono::milliseconds(1)));
  *report_.mutable_backtrace() = std::move(result.backtrace);
  if (result.timed_out) {
    timed_out_ = true;
  }
  if (!report_.backtrace().error().empty()) {
    addError("symbolize", report_.backtrace().error());
  }
  *report_.mutable_timings()->mutable_symbolize() = since(start);
}

void Capture::startCompression(Clock::time_point deadline) {
  auto out = entry_->createFile(kCoreFile);
  if (!out.ok()) {
    return;  // storeCore() tries again and reports it.
  }
  compress_started_ = Clock::now();
  auto child = CompressChild::start(scratch_.get(), drained_.head, out->get(),
                                    config_.compression_level, deadline);
  if (!child.ok()) {
    entry_->removeFile(kCoreFile);
    return;  // storeCore() compresses in-line instead.
  }
  core_out_ = std::move(*out);
  compression_.emplace(std::move(*child));
}

void Capture::dropCompression() {
  compression_.reset();  // kills the child
  if (core_out_) {
    core_out_.reset();
    entry_->removeFile(kCoreFile);
  }
}

void Capture::storeCore(Clock::time_point deadline) {
  v1::CoreInfo& core = *report_.mutable_core();
  if (config_.rate_burst > 0) {
    auto admitted = admitCoreOnDisk(config_.spool_dir + "/.ratelimit", report_.fingerprint(),
                                    std::time(nullptr), config_.rate_burst, config_.rate_interval);
    if (!admitted.ok()) {
      addWarning("ratelimit", admitted.error().message);
    } else if (!*admitted) {
      dropCompression();
      core.set_state(v1::CORE_STATE_RATE_LIMITED);
      core.set_missing_reason("more than " + std::to_string(config_.rate_burst) +
                              " cores with this fingerprint within " +
                              std::to_string(config_.rate_interval.count()) + " s");
      return;
    }
  }
  CompressResult compressed;
  if (compression_) {
    compressed = compression_->wait();
    compression_.reset();
  } else {
    // No child (fork failed): compress here, after the symbolizer.
    compress_started_ = Clock::now();
    auto out = entry_->createFile(kCoreFile);
    if (!out.ok()) {
      core.set_state(v1::CORE_STATE_FAILED);
      core.set_missing_reason(out.error().message);
      addError("compress", out.error().message);
      return;
    }
    core_out_ = std::move(*out);
    compressed = compressZstd(scratch_.get(), drained_.head, core_out_.get(),
                              config_.compression_level, deadline);
  }
  const bool synced = compressed.ok() && ::fsync(core_out_.get()) == 0;
  *report_.mutable_timings()->mutable_compress() = since(compress_started_);
  if (synced) {
    core_out_.reset();
    core.set_state(v1::CORE_STATE_STORED);
    core.set_path(kCoreFile);
    core.set_compression(v1::CORE_COMPRESSION_ZSTD);
    core.set_stored_bytes(compressed.bytes_out);
    return;
  }
  dropCompression();
  if (compressed.timed_out) {
    timed_out_ = true;
    core.set_state(v1::CORE_STATE_TIMED_OUT);
    core.set_missing_reason("capture_timeout ran out while compressing");
    return;
  }
  const std::string message =
      compressed.error ? *compressed.error : Error::fromErrno("fsync core").message;
  core.set_state(v1::CORE_STATE_FAILED);
  core.set_missing_reason(message);
  addError("compress", message);
}

void Capture::finish() {
  const auto deadline = Clock::now() + config_.capture_timeout;
  if (scratch_ && drained_.head > 0) {
    if (readCoreHead()) {
      if (core_pending_ && entry_) {
        startCompression(deadline);  // before the symbolizer's fork: we have one thread.
      }
      symbolize(deadline);
    }
  }
  const Fingerprint fingerprint = computeFingerprint(report_);
  report_.set_fingerprint(fingerprint.hash);
  report_.set_fingerprint_basis(fingerprint.basis);
  if (core_pending_ && entry_) {
    if (timed_out_) {
      dropCompression();
      report_.mutable_core()->set_state(v1::CORE_STATE_TIMED_OUT);
      report_.mutable_core()->set_missing_reason("capture_timeout ran out before compression");
    } else {
      storeCore(deadline);
    }
  }
  scratch_.reset();
  decideOutcome();
  publish();
}

void Capture::decideOutcome() {
  const auto state = report_.core().state();
  if (timed_out_) {
    report_.set_outcome(v1::CAPTURE_OUTCOME_TIMED_OUT);
  } else if (report_.errors_size() > 0) {
    report_.set_outcome(v1::CAPTURE_OUTCOME_FAILED);
  } else if (state == v1::CORE_STATE_DISABLED || state == v1::CORE_STATE_EMPTY) {
    report_.set_outcome(v1::CAPTURE_OUTCOME_NO_CORE);
  } else {
    report_.set_outcome(v1::CAPTURE_OUTCOME_COMPLETE);
  }
  *report_.mutable_timings()->mutable_total() = since(started_);
}

void Capture::publish() {
  if (!entry_) {
    logToKmsg("vigie-coredump: crash of pid " + std::to_string(args_.pid) +
              " not recorded: no spool entry (" + config_.spool_dir + ")");
    return;
  }
  Status written = entry_->writeReport(report_);
  if (!written.ok() && report_.core().state() == v1::CORE_STATE_STORED) {
    // Most likely a full disk: the core is what takes the room. Keep the report.
    entry_->removeFile(kCoreFile);
    v1::CoreInfo& core = *report_.mutable_core();
    core.set_state(v1::CORE_STATE_FAILED);
    core.clear_path();
    core.set_stored_bytes(0);
    core.set_missing_reason("dropped to make room for the report: " + written.error().message);
    addError("spool", "write report: " + written.error().message);
    report_.set_outcome(v1::CAPTURE_OUTCOME_FAILED);
    written = entry_->writeReport(report_);
  }
  if (!written.ok()) {
    logToKmsg("vigie-coredump: crash of pid " + std::to_string(args_.pid) +
              " not recorded: " + written.error().message);
    return;
  }
  if (auto committed = entry_->commit(); !committed.ok()) {
    logToKmsg("vigie-coredump: crash of pid " + std::to_string(args_.pid) +
              " not recorded: " + committed.error().message);
    return;
  }
  entry_path_ = entry_->finalPath();
  // vigied may be down: the entry waits in the spool for its next start.
  (void)notifyIntake(config_.intake_socket, report_.id());
}

}  // namespace vigie::coredump
