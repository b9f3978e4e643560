#include "agent/cgroup/events_watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace vigie {

CgroupEventsWatcher::Watch::~Watch() {
  owner_.callbacks_.erase(wd_);
  ::inotify_rm_watch(owner_.inotify_.get(), wd_);
}

Result<std::unique_ptr<CgroupEventsWatcher>> CgroupEventsWatcher::create(Dispatcher& dispatcher) {
  UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd) {
    return Error::fromErrno("inotify_init1");
  }
  std::unique_ptr<CgroupEventsWatcher> watcher(new CgroupEventsWatcher(std::move(fd)));
  CgroupEventsWatcher* self = watcher.get();
  watcher->fd_watch_ = dispatcher.watchFd(self->inotify_.get(), kFdReadable,
                                          [self](uint32_t) { self->onReadable(); });
  if (!watcher->fd_watch_) {
    return Error::fromErrno("epoll_ctl(inotify)");
  }
  return watcher;
}

Result<std::unique_ptr<CgroupEventsWatcher::Watch>> CgroupEventsWatcher::watch(
    const std::string& path, std::function<void()> on_change) {
  const int wd = ::inotify_add_watch(inotify_.get(), path.c_str(), IN_MODIFY);
  if (wd < 0) {
    return Error::fromErrno("inotify_add_watch " + path);
  }
  callbacks_[wd] = std::move(on_change);
  return std::make_unique<Watch>(*this, wd);
}

void CgroupEventsWatcher::onReadable() {
  alignas(struct inotify_event) char buffer[4096];
  std::vector<int> changed;
  while (true) {
    const ssize_t n = ::read(inotify_.get(), buffer, sizeof buffer);
    if (n <= 0) {
      break;  // EAGAIN: drained. Errors other than EINTR cannot be acted on here.
    }
    for (ssize_t offset = 0; offset < n;) {
      const auto* event = reinterpret_cast<const struct inotify_event*>(buffer + offset);
      if ((event->mask & IN_MODIFY) != 0) {
        changed.push_back(event->wd);
      }
      offset += static_cast<ssize_t>(sizeof(struct inotify_event) + event->len);
    }
  }
  for (int wd : changed) {
    // Looked up again each time: an earlier callback may have dropped this watch.
    auto it = callbacks_.find(wd);
    if (it != callbacks_.end()) {
      std::function<void()> callback = it->second;
      callback();
    }
  }
}

}  // namespace vigie
