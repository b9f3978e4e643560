#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "agent/crash/crash_events.h"
#include "agent/crash/crash_index.h"
#include "agent/crash/incident_store.h"
#include "agent/crash/store_worker.h"
#include "agent/supervisor/forwarding_observer.h"
#include "vigie/config.h"
#include "vigie/dispatcher.h"
#include "vigie/v1/crash.pb.h"

namespace vigie::crash {

// The loop's side of crash capture, a link of the unit observer chain. Every abnormal end of
// a unit instance opens an incident (pending when a core is on its way, else no-core); each
// report vie-coredump hands in (a spool entry) completes the incident of the same process, by
// pid and start time, whichever comes first. A report for a process below an instance (same
// session) is recorded against that unit; any other is a node-level crash. Pending incidents
// time out after crash.report_timeout. All disk I/O goes through the store's worker; the
// results come back through post(), and each change publishes a new CrashIndex.
class IncidentTracker : public ForwardingObserver {
 public:
  struct Options {
    Duration report_timeout = std::chrono::seconds(90);
    CrashRetentionSpec retention;
  };

  IncidentTracker(UnitObserver& next, Dispatcher& dispatcher, IncidentStore& store,
                  StoreWorker& worker, CrashIndexPublisher& publisher, Options options);
  ~IncidentTracker() override;

  // Whether vigie's helper is installed: only then does a dumped core mean a report will come.
  void setCoreExpected(bool expected) { core_expected_ = expected; }
  void setCorePattern(CorePatternState state);
  // Who else hears of new incidents, reports, the pattern and the store's size (the metrics).
  void setEvents(CrashEvents* events) { events_ = events; }
  // Loads the store (removing half-written records) and takes the spool's entries.
  void start();
  // A spool entry's name, from the intake socket or the start-up scan.
  void onSpoolEntry(const std::string& entry);

  void onInstanceStarted(const Unit& unit, const InstanceRecord& instance) override;
  void onInstanceEnded(const Unit& unit, const InstanceRecord& instance,
                       const RestartDecision& decision, bool stopping) override;

  size_t pendingForTest() const { return pending_.size(); }

 private:
  using ProcKey = std::pair<pid_t, uint64_t>;  // pid, start time in ticks
  struct Live {
    std::string unit;
    uint64_t instance_id = 0;
  };
  struct Arrived {
    std::string entry;
    v1::CaptureReport report;
  };

  void onLoaded(IncidentStore::Loaded loaded, const std::vector<std::string>& spool);
  void onReport(const std::string& entry, Result<v1::CaptureReport> report);
  void armTimeout(const std::string& id);
  void onTimeout(std::string id);  // a copy: the timer holding it is destroyed here.
  // Records `incident` (new or changed), persists it, publishes.
  void record(v1::CrashIncident incident, bool create, const std::string& adopt_entry);
  std::string findByProcess(const ProcKey& key) const;
  // The unit instance whose session `process` belongs to, running or recently ended.
  const Live* sessionLeader(const v1::CrashProcess& process) const;
  void scheduleRetention();
  void publish();

  Dispatcher& dispatcher_;
  IncidentStore& store_;
  StoreWorker& worker_;
  CrashIndexPublisher& publisher_;
  Options options_;
  bool core_expected_ = false;
  CorePatternState core_pattern_;
  uint64_t version_ = 0;

  std::map<std::string, IncidentPtr> incidents_;     // by id
  std::map<pid_t, std::pair<uint64_t, Live>> live_;  // running instances: pid -> ticks, unit
  // Instances ended within report_timeout, by pid: a descendant's report can come after its
  // leader's end (a container's init exits as soon as the workload under it has crashed).
  struct Ended {
    uint64_t start_ticks = 0;
    Live live;
    MonoTime at{};
  };
  std::map<pid_t, Ended> ended_;
  std::deque<std::pair<MonoTime, pid_t>> ended_order_;  // oldest first, for the expiry
  std::map<ProcKey, std::string> pending_;              // waiting for a report: process -> id
  std::map<ProcKey, Arrived> early_;                    // reports in before their exit
  std::map<std::string, TimerPtr> timeouts_;            // by incident id
  std::set<std::string> seen_entries_;                  // spool entries taken (or being taken)
  std::map<std::string, int> writing_;                  // incident id -> writes queued
  bool loaded_ = false;                                 // the store has been read
  bool retention_queued_ = false;
  bool retention_again_ = false;  // asked for while queued: its snapshot is already taken
  CrashEvents* events_ = nullptr;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace vigie::crash
