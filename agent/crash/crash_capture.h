#pragma once

#include <memory>
#include <string>

#include "agent/crash/core_pattern.h"
#include "agent/crash/crash_index.h"
#include "agent/crash/incident_store.h"
#include "agent/crash/incident_tracker.h"
#include "agent/crash/intake_socket.h"
#include "agent/crash/store_worker.h"
#include "vigie/config.h"
#include "vigie/dispatcher.h"

namespace vigie::crash {

// Crash capture as vigied runs it: the core_pattern (installed, watched for drift, restored),
// the helper's config, the intake socket, the incident tracker (a unit observer link) and the
// store with its worker thread. main.cc creates it, puts unitObserver() in front of the chain,
// calls start() before the units start and stop() on a clean shutdown.
class CrashCapture {
 public:
  struct Deps {
    Dispatcher& dispatcher;
    UnitObserver& next;  // the rest of the observer chain
    std::string state_dir;
    CrashSpec spec;
    std::string pattern_file = kKernelCorePattern;  // tests use a plain file
    std::string kill_at_for_test;                   // see IncidentStore
    CrashEvents* events = nullptr;                  // the metrics; may be null
  };

  explicit CrashCapture(Deps deps);
  ~CrashCapture();

  UnitObserver& unitObserver() { return *tracker_; }
  CrashIndexPublisher& index() { return publisher_; }

  // Never fails the agent: a pattern that cannot be installed or an intake that cannot be
  // bound is logged and shown in the index's core_pattern state; units run regardless.
  void start();
  // Clean shutdown: puts the previous core_pattern back.
  void stop();

 private:
  void installPattern();
  void checkDrift();

  Dispatcher& dispatcher_;
  CrashSpec spec_;
  std::string spool_dir_;
  CorePatternManager pattern_;
  CorePatternState pattern_state_;
  IncidentStore store_;
  CrashIndexPublisher publisher_;
  StoreWorker worker_;
  std::unique_ptr<IncidentTracker> tracker_;
  std::unique_ptr<IntakeSocket> intake_;
  TimerPtr drift_timer_;
};

}  // namespace vigie::crash
