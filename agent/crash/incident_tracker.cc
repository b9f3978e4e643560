#include "agent/crash/incident_tracker.h"

#include <google/protobuf/util/time_util.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <utility>

#include "agent/coredump/capture_id.h"
#include "agent/crash/incident_builder.h"
#include "agent/crash/retention.h"
#include "agent/supervisor/unit.h"

namespace vigie::crash {

namespace pbu = google::protobuf::util;

namespace {

WallTime fromTimestamp(const google::protobuf::Timestamp& ts) {
  return WallTime{} + std::chrono::duration_cast<WallTime::duration>(
                          std::chrono::nanoseconds(pbu::TimeUtil::TimestampToNanoseconds(ts)));
}

uint64_t fileBytes(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return 0;
  }
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

bool hasCore(const v1::CrashIncident& incident) {
  return !incident.core_path().empty() && !incident.core_removed();
}

}  // namespace

IncidentTracker::IncidentTracker(UnitObserver& next, Dispatcher& dispatcher, IncidentStore& store,
                                 StoreWorker& worker, CrashIndexPublisher& publisher,
                                 Options options)
    : ForwardingObserver(next),
      dispatcher_(dispatcher),
      store_(store),
      worker_(worker),
      publisher_(publisher),
      options_(options) {}

IncidentTracker::~IncidentTracker() {
  *alive_ = false;
}

void IncidentTracker::setCorePattern(CorePatternState state) {
  core_pattern_ = std::move(state);
  if (events_ != nullptr) {
    events_->onCorePattern(core_pattern_);
  }
  publish();
}

void IncidentTracker::start() {
  std::weak_ptr<bool> alive = alive_;
  worker_.submit([this, alive]() -> StoreWorker::Continuation {
    IncidentStore::Loaded loaded;
    if (auto opened = store_.open(); !opened) {
      spdlog::error("crash store: {}", opened.error().message);
    } else {
      loaded = store_.load();
    }
    std::vector<std::string> spool = store_.listSpool();
    return [this, alive, loaded = std::move(loaded), spool = std::move(spool)]() mutable {
      if (!alive.expired() && *alive.lock()) {
        onLoaded(std::move(loaded), spool);
      }
    };
  });
}

void IncidentTracker::onLoaded(IncidentStore::Loaded loaded,
                               const std::vector<std::string>& spool) {
  for (const auto& name : loaded.removed_temp) {
    spdlog::warn("crash store: removed the half-written record {}", name);
  }
  for (const auto& why : loaded.unreadable) {
    spdlog::warn("crash store: skipped the unreadable record {}", why);
  }
  for (auto& incident : loaded.incidents) {
    const std::string id = incident.id();
    if (incident.status() == v1::INCIDENT_STATUS_PENDING) {
      pending_[{incident.pid(), incident.start_time_ticks()}] = id;
      armTimeout(id);
    }
    incidents_[id] = std::make_shared<const v1::CrashIncident>(std::move(incident));
  }
  spdlog::info("crash store {}: {} incident(s), {} spool entr(ies) to take", store_.dir(),
               incidents_.size(), spool.size());
  loaded_ = true;
  publish();
  for (const auto& entry : spool) {
    onSpoolEntry(entry);
  }
  scheduleRetention();
}

void IncidentTracker::onSpoolEntry(const std::string& entry) {
  if (!coredump::isCaptureId(entry)) {
    spdlog::warn("crash intake: ignored a datagram that names no spool entry");
    return;
  }
  if (!seen_entries_.insert(entry).second) {
    return;  // the start-up scan and the intake socket can both name an entry.
  }
  std::weak_ptr<bool> alive = alive_;
  worker_.submit([this, alive, entry]() -> StoreWorker::Continuation {
    auto report = store_.readSpoolReport(entry);
    return [this, alive, entry, report = std::move(report)]() mutable {
      if (!alive.expired() && *alive.lock()) {
        onReport(entry, std::move(report));
      }
    };
  });
}

std::string IncidentTracker::findByProcess(const ProcKey& key) const {
  // Newest first: a reused pid with the same start tick cannot happen, but an old record of
  // the same process (a no-core one, a timed-out one) is what a late report belongs to.
  for (auto it = incidents_.rbegin(); it != incidents_.rend(); ++it) {
    const auto& incident = *it->second;
    if (incident.pid() == key.first && incident.start_time_ticks() == key.second &&
        incident.capture_id().empty()) {
      return incident.id();
    }
  }
  return "";
}

void IncidentTracker::onReport(const std::string& entry, Result<v1::CaptureReport> report) {
  const WallTime now = dispatcher_.wallNow();
  if (!report) {
    spdlog::error("crash intake: {}", report.error().message);
    record(unreadableReportIncident(entry, report.error().message, now), true, entry);
    return;
  }
  if (events_ != nullptr) {
    events_->onCaptureReport(*report);
  }
  const auto& process = report->process();
  const ProcKey key{process.pid(), process.start_time_ticks()};

  auto pending = pending_.find(key);
  if (pending == pending_.end() && key.second == 0) {
    // The helper could not read /proc/PID/stat: the pid alone, among pending incidents.
    pending = std::find_if(pending_.begin(), pending_.end(),
                           [&](const auto& item) { return item.first.first == key.first; });
  }
  if (pending != pending_.end()) {
    const std::string id = pending->second;
    pending_.erase(pending);
    timeouts_.erase(id);
    if (auto it = incidents_.find(id); it != incidents_.end()) {
      v1::CrashIncident incident = *it->second;
      applyReport(incident, *report, entry, now);
      record(std::move(incident), false, entry);
      return;
    }
  }
  if (auto live = live_.find(key.first); live != live_.end() && live->second.first == key.second) {
    // The report beat the exit (the helper can be quick, the pidfd slow): held for the exit.
    early_[key] = Arrived{entry, std::move(*report)};
    return;
  }
  if (const std::string id = findByProcess(key); !id.empty()) {
    v1::CrashIncident incident = *incidents_.at(id);
    applyReport(incident, *report, entry, now);
    record(std::move(incident), false, entry);
    return;
  }
  v1::CrashIncident incident = nodeIncident(*report, entry, now);
  // A process below a unit's instance: units lead their own session.
  if (const Live* leader = sessionLeader(process); leader != nullptr) {
    incident.set_node_level(false);
    incident.set_descendant(true);
    incident.set_unit(leader->unit);
    incident.set_instance_id(leader->instance_id);
  } else {
    spdlog::info("crash intake: {} (pid {}) is no unit's: node-level record {}", process.exe(),
                 process.pid(), entry);
  }
  record(std::move(incident), true, entry);
}

const IncidentTracker::Live* IncidentTracker::sessionLeader(const v1::CrashProcess& process) const {
  const pid_t session = process.session_id();
  if (session <= 0) {
    return nullptr;
  }
  if (auto leader = live_.find(session); leader != live_.end()) {
    return &leader->second.second;
  }
  // An ended leader's pid may be reused since: only a process that started after the leader
  // did can be below it (start times in ticks since boot).
  if (auto ended = ended_.find(session);
      ended != ended_.end() && process.start_time_ticks() >= ended->second.start_ticks) {
    return &ended->second.live;
  }
  return nullptr;
}

void IncidentTracker::onInstanceStarted(const Unit& unit, const InstanceRecord& instance) {
  ForwardingObserver::onInstanceStarted(unit, instance);
  live_[instance.pid] = {instance.start_ticks, Live{unit.name(), instance.id}};
}

void IncidentTracker::onInstanceEnded(const Unit& unit, const InstanceRecord& instance,
                                      const RestartDecision& decision, bool stopping) {
  // Passed on first: the restart decision is acted on right after this returns, and nothing
  // here may delay it (the record is written by the worker).
  ForwardingObserver::onInstanceEnded(unit, instance, decision, stopping);
  if (auto live = live_.find(instance.pid); live != live_.end() &&
                                            live->second.second.instance_id == instance.id &&
                                            live->second.second.unit == unit.name()) {
    // Expired from the oldest end on: no scan of them all on the loop at every end.
    const MonoTime now = dispatcher_.monotonicNow();
    while (!ended_order_.empty() && now - ended_order_.front().first > options_.report_timeout) {
      const auto [at, pid] = ended_order_.front();
      ended_order_.pop_front();
      if (auto old = ended_.find(pid); old != ended_.end() && old->second.at == at) {
        ended_.erase(old);  // (a newer end of a reused pid stays)
      }
    }
    ended_[instance.pid] = Ended{live->second.first, std::move(live->second.second), now};
    ended_order_.emplace_back(now, instance.pid);
    live_.erase(live);
  }
  if (!instance.exit || !isAbnormalEnd(unit.spec(), *instance.exit, stopping)) {
    return;
  }
  const WallTime now = dispatcher_.wallNow();
  const ProcKey key{instance.pid, instance.start_ticks};
  const bool core_expected = core_expected_ && instance.exit->coreDumped();
  v1::CrashIncident incident = incidentForInstance(
      unit, instance, makeIncidentId(instance.exit->at_wall, instance.pid), core_expected, now);
  spdlog::info("incident {}: {} instance {} {} ({})", incident.id(), unit.name(), instance.id,
               instance.exit->describe(), incidentStatusName(incident.status()));
  if (auto early = early_.find(key); early != early_.end()) {
    Arrived arrived = std::move(early->second);
    early_.erase(early);
    applyReport(incident, arrived.report, arrived.entry, now);
    record(std::move(incident), true, arrived.entry);
    return;
  }
  if (core_expected) {
    pending_[key] = incident.id();
    const std::string id = incident.id();
    record(std::move(incident), true, "");
    armTimeout(id);
    return;
  }
  record(std::move(incident), true, "");
}

void IncidentTracker::armTimeout(const std::string& id) {
  TimerPtr timer = dispatcher_.createTimer([this, id] { onTimeout(id); });
  timer->enableAt(dispatcher_.monotonicNow() + options_.report_timeout);
  timeouts_[id] = std::move(timer);
}

void IncidentTracker::onTimeout(std::string id) {
  timeouts_.erase(id);  // a timer may be destroyed from its own callback.
  auto it = incidents_.find(id);
  if (it == incidents_.end() || it->second->status() != v1::INCIDENT_STATUS_PENDING) {
    return;
  }
  for (auto pending = pending_.begin(); pending != pending_.end(); ++pending) {
    if (pending->second == id) {
      pending_.erase(pending);
      break;
    }
  }
  v1::CrashIncident incident = *it->second;
  markTimedOut(incident, dispatcher_.wallNow());
  spdlog::warn("incident {}: no report from vigie-coredump in {}", id,
               formatDuration(options_.report_timeout));
  record(std::move(incident), false, "");
}

void IncidentTracker::record(v1::CrashIncident incident, bool create,
                             const std::string& adopt_entry) {
  auto stored = std::make_shared<const v1::CrashIncident>(std::move(incident));
  incidents_[stored->id()] = stored;
  if (create && events_ != nullptr) {
    events_->onIncidentOpened(*stored);
  }
  ++writing_[stored->id()];
  std::weak_ptr<bool> alive = alive_;
  worker_.submit([this, alive, stored, create, adopt_entry]() -> StoreWorker::Continuation {
    const Status written =
        create ? store_.create(*stored, adopt_entry) : store_.update(*stored, adopt_entry);
    if (!written) {
      // Logged from the worker: the loop may be gone by the time a continuation would run.
      spdlog::error("crash store: cannot write incident {}: {}", stored->id(),
                    written.error().message);
    }
    // Once on disk (or failed), the API may show this version: its files are in place.
    return [this, alive, id = stored->id()] {
      if (alive.expired() || !*alive.lock()) {
        return;
      }
      if (auto it = writing_.find(id); it != writing_.end() && --it->second <= 0) {
        writing_.erase(it);
      }
      publish();
    };
  });
  publish();
  // A core that lands in a record counts against max_use as much as a new record does.
  if (create || !adopt_entry.empty()) {
    scheduleRetention();
  }
}

void IncidentTracker::scheduleRetention() {
  if (retention_queued_) {
    retention_again_ = true;
    return;
  }
  retention_queued_ = true;
  std::vector<IncidentPtr> snapshot;
  for (const auto& [id, incident] : incidents_) {
    snapshot.push_back(incident);
  }
  std::weak_ptr<bool> alive = alive_;
  const CrashRetentionSpec spec = options_.retention;
  const WallTime now = dispatcher_.wallNow();
  worker_.submit([this, alive, snapshot, spec, now]() -> StoreWorker::Continuation {
    std::vector<RetainedRecord> records;
    for (const auto& incident : snapshot) {
      const uint64_t core =
          hasCore(*incident) ? fileBytes(store_.recordDir(incident->id()) + "/" + kCoreFile) : 0;
      const uint64_t all = store_.recordBytes(incident->id());
      records.push_back(RetainedRecord{incident->id(), fromTimestamp(incident->opened()),
                                       incident->fingerprint(), hasCore(*incident), core,
                                       all > core ? all - core : 0});
    }
    auto space = store_.space();
    const RetentionPlan plan = planRetention(records, spec, space ? space->total : 0,
                                             space ? space->available : UINT64_MAX, now);
    std::vector<std::string> dropped;
    for (const auto& id : plan.drop_core) {
      if (auto removed = store_.removeCore(id); removed) {
        dropped.push_back(id);
      }
    }
    std::vector<std::string> removed;
    for (const auto& id : plan.remove) {
      if (store_.remove(id)) {
        removed.push_back(id);
      }
    }
    const uint64_t store_bytes = store_.usedBytes();
    return [this, alive, dropped, removed, store_bytes] {
      if (alive.expired() || !*alive.lock()) {
        return;
      }
      retention_queued_ = false;
      if (events_ != nullptr) {
        events_->onStoreVacuumed(store_bytes, dropped.size(), removed.size());
      }
      for (const auto& id : removed) {
        incidents_.erase(id);
        spdlog::info("crash store: retention removed incident {}", id);
      }
      for (const auto& id : dropped) {
        auto it = incidents_.find(id);
        if (it == incidents_.end()) {
          continue;
        }
        v1::CrashIncident incident = *it->second;
        incident.set_core_removed(true);
        incident.set_core_path("");
        record(std::move(incident), false, "");
      }
      publish();
      if (std::exchange(retention_again_, false)) {
        scheduleRetention();
      }
    };
  });
}

void IncidentTracker::publish() {
  auto index = std::make_shared<CrashIndex>();
  index->version = ++version_;
  index->store_dir = store_.dir();
  index->core_pattern = core_pattern_;
  index->loaded = loaded_;
  for (const auto& [id, count] : writing_) {
    index->writing.insert(id);
  }
  std::map<std::string, CrashGroup> groups;
  for (const auto& [id, incident] : incidents_) {
    index->incidents.push_back(incident);
    if (incident->fingerprint().empty()) {
      continue;
    }
    CrashGroup& group = groups[incident->fingerprint()];
    const WallTime at = fromTimestamp(incident->opened());
    if (group.count == 0) {
      group.fingerprint = incident->fingerprint();
      group.first_seen = at;
      group.first_id = id;
    }
    ++group.count;
    group.last_seen = at;
    group.last_id = id;
    if (incident->core_removed()) {
      ++group.cores_removed;
    }
  }
  for (auto& [fingerprint, group] : groups) {
    index->groups.push_back(std::move(group));
  }
  publisher_.publish(std::move(index));
}

}  // namespace vigie::crash
