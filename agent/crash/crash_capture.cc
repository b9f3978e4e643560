#include "agent/crash/crash_capture.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "agent/crash/helper_config_file.h"

namespace vigie::crash {
namespace {

// The kernel runs the helper by the path in the pattern, as root. A pattern naming a helper
// that is not there (a dev machine without the package, a node whose init container did not
// copy it) would lose every core dump on the host: the host's pattern stays instead. In the
// DaemonSet the host's helper directory is mounted at the same path, so this checks the file
// the kernel will run.
Status checkHelper(const std::string& helper) {
  if (::access(helper.c_str(), X_OK) != 0) {
    return Error::fromErrno("the helper " + helper + " cannot be run");
  }
  return {};
}

}  // namespace

CrashCapture::CrashCapture(Deps deps)
    : dispatcher_(deps.dispatcher),
      spec_(deps.spec),
      spool_dir_(spec_.spool_dir.empty() ? deps.state_dir + "/crash/spool" : spec_.spool_dir),
      pattern_(deps.pattern_file, deps.state_dir + "/crash/core_pattern.saved",
               buildCorePattern(spec_.helper, spec_.helper_config)),
      store_(deps.state_dir + "/crash", spool_dir_, deps.kill_at_for_test),
      worker_(deps.dispatcher),
      tracker_(std::make_unique<IncidentTracker>(
          deps.next, deps.dispatcher, store_, worker_, publisher_,
          IncidentTracker::Options{spec_.report_timeout, spec_.retention})) {
  pattern_state_.managed = spec_.core_pattern == CrashSpec::CorePattern::kInstall;
  tracker_->setEvents(deps.events);
  pattern_state_.expected = pattern_.ours();
}

CrashCapture::~CrashCapture() {
  drift_timer_.reset();
  intake_.reset();
  // The worker's jobs refer to the tracker (a retention pass reads the store through it): they
  // finish before the tracker, declared after the worker, is destroyed.
  worker_.stop();
}

void CrashCapture::start() {
  // The store directory first: the saved pattern lives in it.
  if (auto opened = store_.open(); !opened) {
    spdlog::error("crash store: {}", opened.error().message);
  }
  // A saved pattern means the last vigied died before restoring it: put the host's back first,
  // whatever this start's mode (with `leave` this undoes our own change, nothing else).
  if (auto leftover = pattern_.restoreLeftover(); !leftover) {
    spdlog::error("core_pattern: cannot restore the saved pattern: {}", leftover.error().message);
  } else if (leftover->has_value()) {
    spdlog::warn("core_pattern: restored \"{}\", saved by a vigied that did not stop cleanly",
                 **leftover);
  }
  if (pattern_state_.managed) {
    installPattern();
    auto intake = IntakeSocket::bind(dispatcher_, spec_.intake_socket,
                                     [this](std::string entry) { tracker_->onSpoolEntry(entry); });
    if (!intake) {
      spdlog::error("crash intake: {}; reports are taken from the spool at the next start",
                    intake.error().message);
    } else {
      intake_ = std::move(*intake);
    }
    // No notification exists for a write to /proc/sys/kernel/core_pattern (sysctl files do not
    // support inotify or poll), so drift is found by re-reading it on a slow timer.
    drift_timer_ = dispatcher_.createTimer([this] { checkDrift(); });
    drift_timer_->enableAt(dispatcher_.monotonicNow() + spec_.drift_check_interval);
  } else {
    spdlog::info("core_pattern: left as it is (crash.core_pattern: leave)");
  }
  tracker_->setCorePattern(pattern_state_);
  tracker_->start();
}

void CrashCapture::installPattern() {
  Status installed = checkHelper(spec_.helper);
  if (installed) {
    installed = pattern_.install();
  }
  if (!installed) {
    pattern_state_.installed = false;
    pattern_state_.error = installed.error().message;
    spdlog::error("core_pattern: cannot install vigie's helper: {}", installed.error().message);
  } else {
    pattern_state_.installed = true;
    pattern_state_.drift = false;
    pattern_state_.error.clear();
    pattern_state_.current = pattern_.ours();
    spdlog::info("core_pattern: installed \"{}\" (previous: \"{}\")", pattern_.ours(),
                 pattern_.previous());
  }
  const std::string forward = forwardPattern(spec_, pattern_.previous(), pattern_.ours());
  if (auto written = writeHelperConfig(spec_, spool_dir_, forward); !written) {
    spdlog::error("crash: cannot write the helper's config: {}", written.error().message);
  }
  tracker_->setCoreExpected(pattern_state_.installed);
}

void CrashCapture::checkDrift() {
  drift_timer_->enableAt(dispatcher_.monotonicNow() + spec_.drift_check_interval);
  auto current = pattern_.current();
  if (!current) {
    return;
  }
  const bool drift = pattern_state_.installed && *current != pattern_.ours();
  pattern_state_.current = *current;
  if (drift == pattern_state_.drift) {
    return;
  }
  pattern_state_.drift = drift;
  if (drift) {
    spdlog::warn("core_pattern drift: \"{}\" replaced vigie's \"{}\"{}", *current, pattern_.ours(),
                 spec_.reinstall_on_drift ? "; re-installing (crash.reinstall_on_drift)"
                                          : "; cores no longer reach vigie");
    if (spec_.reinstall_on_drift) {
      // Whoever rewrote it owns the pattern now: that is the one to give back at shutdown.
      installPattern();
    } else {
      tracker_->setCoreExpected(false);
    }
  } else {
    tracker_->setCoreExpected(true);
  }
  tracker_->setCorePattern(pattern_state_);
}

void CrashCapture::stop() {
  drift_timer_.reset();
  if (!pattern_.installed()) {
    return;
  }
  if (pattern_state_.drift) {
    spdlog::info("core_pattern: left \"{}\" in place (it replaced vigie's)",
                 pattern_state_.current);
    pattern_.abandon();
    return;
  }
  if (auto restored = pattern_.restore(); !restored) {
    spdlog::error("core_pattern: cannot restore the previous pattern: {}",
                  restored.error().message);
  } else {
    spdlog::info("core_pattern: restored the previous pattern");
  }
}

}  // namespace vigie::crash
