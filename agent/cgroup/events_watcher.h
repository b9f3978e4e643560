// Wakes the loop when a cgroup2 `cgroup.events` file changes ("populated 1" -> "populated 0"),
// through one inotify fd for every unit (cgroupfs raises IN_MODIFY on that file).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "agent/os/unique_fd.h"
#include "vigie/dispatcher.h"
#include "vigie/result.h"

namespace vigie {

class CgroupEventsWatcher {
 public:
  // Interest in one file; destroying it stops the callbacks, even from inside one.
  class Watch {
   public:
    Watch(CgroupEventsWatcher& owner, int wd) : owner_(owner), wd_(wd) {}
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

   private:
    CgroupEventsWatcher& owner_;
    int wd_;
  };

  static Result<std::unique_ptr<CgroupEventsWatcher>> create(Dispatcher& dispatcher);

  // `on_change` runs on the loop after each change of the file at `path`.
  Result<std::unique_ptr<Watch>> watch(const std::string& path, std::function<void()> on_change);

 private:
  explicit CgroupEventsWatcher(UniqueFd inotify) : inotify_(std::move(inotify)) {}
  void onReadable();

  UniqueFd inotify_;
  FdWatchPtr fd_watch_;
  std::unordered_map<int, std::function<void()>> callbacks_;  // by watch descriptor.
};

}  // namespace vigie
