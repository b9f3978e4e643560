// Crash incidents and CrashIndexes made by hand, for the API's crash tests: what the crash
// tracker would publish, without a tracker.
#pragma once

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "agent/crash/crash_index.h"
#include "vigie/v1/crash.pb.h"

namespace vigie::testing {

// An incident of `unit` (empty: node-level) that crashed `seconds` after 2024-05-01T00:00:00Z,
// with a SIGSEGV through level3 and a stored core unless `status` says otherwise.
inline v1::CrashIncident crashIncident(const std::string& id, const std::string& unit,
                                       int64_t seconds,
                                       v1::IncidentStatus status = v1::INCIDENT_STATUS_COMPLETE,
                                       const std::string& fingerprint = "5b1c2d3e4f506172") {
  namespace pbu = google::protobuf::util;
  v1::CrashIncident incident;
  incident.set_id(id);
  incident.set_status(status);
  incident.set_unit(unit);
  incident.set_node_level(unit.empty());
  incident.set_instance_id(unit.empty() ? 0 : 1);
  incident.set_exe("/usr/bin/server");
  incident.add_cmdline("/usr/bin/server");
  incident.set_pid(4242);
  incident.set_reason("core-dumped");
  incident.set_signal(11);
  incident.set_signal_name("SIGSEGV");
  *incident.mutable_ended() = pbu::TimeUtil::SecondsToTimestamp(1714521600 + seconds);
  *incident.mutable_opened() = incident.ended();
  *incident.mutable_updated() = incident.ended();
  incident.set_fingerprint(fingerprint);
  if (status == v1::INCIDENT_STATUS_COMPLETE) {
    incident.set_capture_id(id);
    incident.set_core_state(v1::CORE_STATE_STORED);
    incident.set_core_path("core.zst");
    incident.set_core_raw_bytes(4096);
    incident.set_core_stored_bytes(512);
    auto* thread = incident.mutable_backtrace()->add_threads();
    thread->set_tid(4242);
    thread->set_crashed(true);
    for (const char* function : {"level3", "level2", "main"}) {
      auto* frame = thread->add_frames();
      frame->set_index(static_cast<uint32_t>(thread->frames_size() - 1));
      frame->set_function(function);
      frame->set_module("/usr/bin/server");
    }
  }
  return incident;
}

// An index of `incidents` (sorted by id here), stored under `store_dir`. `version` 0: a new one
// each time, as the tracker numbers what it publishes.
inline std::shared_ptr<crash::CrashIndex> crashIndex(std::vector<v1::CrashIncident> incidents,
                                                     const std::string& store_dir = "/nonexistent",
                                                     uint64_t version = 0,
                                                     std::set<std::string> writing = {}) {
  static uint64_t next_version = 1000;
  auto index = std::make_shared<crash::CrashIndex>();
  index->version = version != 0 ? version : next_version++;
  index->store_dir = store_dir;
  index->loaded = true;
  index->writing = std::move(writing);
  std::sort(incidents.begin(), incidents.end(),
            [](const auto& a, const auto& b) { return a.id() < b.id(); });
  for (auto& incident : incidents) {
    index->incidents.push_back(std::make_shared<const v1::CrashIncident>(std::move(incident)));
  }
  return index;
}

// `<store_dir>/<id>/` with report.pb and core.zst (when given), as the store writes them.
inline void writeCrashRecord(const std::string& store_dir, const std::string& id,
                             const v1::CaptureReport* report, const std::string* core) {
  const std::string dir = store_dir + "/" + id;
  std::filesystem::create_directories(dir);
  if (report != nullptr) {
    std::ofstream(dir + "/report.pb", std::ios::binary) << report->SerializeAsString();
  }
  if (core != nullptr) {
    std::ofstream(dir + "/core.zst", std::ios::binary) << *core;
  }
}

}  // namespace vigie::testing
