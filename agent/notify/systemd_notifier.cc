#include "agent/notify/systemd_notifier.h"

#include <algorithm>
#include <utility>

namespace vigie {
namespace {

std::string oneLine(std::string_view text) {
  std::string line(text);
  std::replace(line.begin(), line.end(), '\n', ' ');
  return line;
}

}  // namespace

SystemdNotifier::SystemdNotifier(Dispatcher& dispatcher, Notifier& notifier, ErrorCallback on_error)
    : dispatcher_(dispatcher),
      notifier_(notifier),
      on_error_(std::move(on_error)),
      status_timer_(dispatcher_.createTimer([this] { onStatusTimer(); })) {}

void SystemdNotifier::ready(std::string_view status_text) {
  if (ready_) {
    return;
  }
  ready_ = true;
  sent_status_ = oneLine(status_text);
  sent_status_at_ = dispatcher_.monotonicNow();
  send("READY=1\nSTATUS=" + sent_status_);
}

void SystemdNotifier::status(std::string_view text) {
  if (!ready_) {
    return;
  }
  std::string line = oneLine(text);
  if (line == sent_status_) {
    // Changed and changed back before the timer fired: systemd already shows this text.
    pending_status_.reset();
    status_timer_->disable();
    return;
  }
  pending_status_ = std::move(line);
  if (!status_timer_->enabled()) {
    // Never sent from inside the caller's stack, even when due: a unit's immediate restart goes
    // running -> starting -> running within one loop turn, and only the end state matters.
    status_timer_->enableAt(
        std::max(dispatcher_.monotonicNow(), sent_status_at_ + kStatusInterval));
  }
}

void SystemdNotifier::onStatusTimer() {
  if (pending_status_ && *pending_status_ != sent_status_) {
    sendStatus(std::move(*pending_status_));
  }
  pending_status_.reset();
}

void SystemdNotifier::sendStatus(std::string text) {
  sent_status_ = std::move(text);
  sent_status_at_ = dispatcher_.monotonicNow();
  pending_status_.reset();
  status_timer_->disable();
  send("STATUS=" + sent_status_);
}

void SystemdNotifier::stopping() {
  send("STOPPING=1");
}

Result<std::optional<Duration>> SystemdNotifier::startWatchdog() {
  auto timeout = notifier_.watchdogTimeout();
  if (!timeout) {
    return timeout.error();
  }
  if (!timeout->has_value()) {
    return std::optional<Duration>{};
  }
  watchdog_period_ = std::max<Duration>(**timeout / 2, kMinWatchdogPeriod);
  if (!watchdog_timer_) {
    watchdog_timer_ = dispatcher_.createTimer([this] { ping(); });
  }
  // At once: start-up before this call already used part of the first period.
  ping();
  return std::optional<Duration>{watchdog_period_};
}

void SystemdNotifier::ping() {
  send("WATCHDOG=1");
  // From now, not from the missed deadline: a late loop must not make up for lost pings with a
  // burst, and the next one is due a full half-timeout after this one.
  watchdog_timer_->enableAt(dispatcher_.monotonicNow() + watchdog_period_);
}

void SystemdNotifier::send(std::string_view message) {
  const Status sent = notifier_.send(message);
  if (sent.ok()) {
    failing_ = false;
    return;
  }
  if (!failing_ && on_error_) {
    on_error_(sent.error());
  }
  failing_ = true;
}

}  // namespace vigie
