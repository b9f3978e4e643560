#include "agent/crash/crash_index.h"

#include <fcntl.h>

#include <algorithm>

#include "agent/coredump/capture_id.h"
#include "agent/crash/incident_store.h"

namespace vigie::crash {

IncidentPtr CrashIndex::find(const std::string& id) const {
  const auto it =
      std::lower_bound(incidents.begin(), incidents.end(), id,
                       [](const IncidentPtr& a, const std::string& b) { return a->id() < b; });
  if (it == incidents.end() || (*it)->id() != id) {
    return nullptr;
  }
  return *it;
}

std::vector<std::string> CrashIndex::idsAfter(const std::string& after) const {
  std::vector<std::string> ids;
  for (const auto& incident : incidents) {
    if (incident->id() > after) {
      ids.push_back(incident->id());
    }
  }
  return ids;
}

Result<UniqueFd> openIncidentFile(const CrashIndex& index, const std::string& id,
                                  const std::string& name) {
  if (!coredump::isCaptureId(id) || !index.find(id)) {
    return Error{"no incident " + id, ENOENT};
  }
  if (name != kIncidentFile && name != kReportFile && name != kCoreFile) {
    return Error{"no such incident file: " + name, EINVAL};
  }
  const std::string path = index.store_dir + "/" + id + "/" + name;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    return Error::fromErrno("open " + path);
  }
  return fd;
}

CrashIndexPublisher::CrashIndexPublisher() : current_(std::make_shared<const CrashIndex>()) {}

CrashIndexPtr CrashIndexPublisher::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

void CrashIndexPublisher::publish(CrashIndexPtr index) {
  {
    std::lock_guard lock(mutex_);
    current_ = std::move(index);
  }
  for (const auto& listener : listeners_) {
    listener();
  }
}

void CrashIndexPublisher::addListener(std::function<void()> listener) {
  listeners_.push_back(std::move(listener));
}

}  // namespace vigie::crash
