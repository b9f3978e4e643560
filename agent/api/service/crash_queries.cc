#include "agent/api/service/crash_queries.h"

#include <fcntl.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <array>
#include <map>
#include <string_view>

#include "agent/api/crash_convert.h"
#include "agent/api/crash_state.h"
#include "agent/crash/durable_files.h"
#include "agent/crash/incident_store.h"

namespace vigie {
namespace {

using grpc::StatusCode;
namespace pbu = google::protobuf::util;

constexpr size_t kMaxReportBytes = size_t{16} << 20;
constexpr size_t kCandidatesShown = 5;
constexpr std::array<std::string_view, 4> kReasons = {"exited", "signaled", "core-dumped", "lost"};

grpc::Status invalid(const std::string& message) {
  return grpc::Status(StatusCode::INVALID_ARGUMENT, message);
}

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

WallTime wallTime(const google::protobuf::Timestamp& ts) {
  return WallTime{} + std::chrono::duration_cast<WallTime::duration>(
                          std::chrono::nanoseconds(pbu::TimeUtil::TimestampToNanoseconds(ts)));
}

bool knownReason(const std::string& reason) {
  return std::find(kReasons.begin(), kReasons.end(), reason) != kReasons.end();
}

bool matches(const v1::CrashSummary& crash, const v1::ListCrashesRequest& request) {
  if (!request.unit().empty() && crash.unit() != request.unit()) {
    return false;
  }
  if (!request.fingerprint().empty() && crash.fingerprint().rfind(request.fingerprint(), 0) != 0) {
    return false;
  }
  if (!request.reason().empty() && crash.reason() != request.reason()) {
    return false;
  }
  if (request.has_since() && crash.time() < request.since()) {
    return false;
  }
  if (request.has_until() && !(crash.time() < request.until())) {
    return false;
  }
  return true;
}

void setVersion(const NodeSnapshot& snapshot, v1::StateVersion* out) {
  out->set_epoch(snapshot.epoch);
  out->set_revision(snapshot.revision);
}

std::string notFound(const CrashState& crashes, const std::string& id) {
  if (crashes.entries.empty()) {
    return "no crash incident matches " + quoted(id) + ": no incident is on record";
  }
  return "no crash incident matches " + quoted(id) + ": " + std::to_string(crashes.entries.size()) +
         " incident(s) on record, the newest is " + crashes.entries.back().incident->id();
}

}  // namespace

grpc::Status findCrash(const CrashState& crashes, const std::string& id, const CrashEntry** found) {
  *found = nullptr;
  if (id.empty()) {
    return invalid("a crash incident id is required");
  }
  if (const CrashEntry* exact = crashes.find(id); exact != nullptr) {
    *found = exact;
    return grpc::Status::OK;
  }
  const auto first = std::lower_bound(crashes.entries.begin(), crashes.entries.end(), id,
                                      [](const CrashEntry& entry, const std::string& prefix) {
                                        return entry.incident->id() < prefix;
                                      });
  std::vector<const CrashEntry*> candidates;
  for (auto it = first; it != crashes.entries.end() && it->incident->id().rfind(id, 0) == 0; ++it) {
    candidates.push_back(&*it);
  }
  if (candidates.empty()) {
    return grpc::Status(StatusCode::NOT_FOUND, notFound(crashes, id));
  }
  if (candidates.size() == 1) {
    *found = candidates.front();
    return grpc::Status::OK;
  }
  std::string names;
  for (size_t i = 0; i < candidates.size() && i < kCandidatesShown; ++i) {
    names += (i == 0 ? "" : ", ") + candidates[i]->incident->id();
  }
  if (candidates.size() > kCandidatesShown) {
    names += " and " + std::to_string(candidates.size() - kCandidatesShown) + " more";
  }
  return invalid(quoted(id) + " is ambiguous: it starts " + std::to_string(candidates.size()) +
                 " incident ids (" + names + "); give more of the id");
}

std::vector<crash::CrashGroup> crashGroups(const CrashState& crashes) {
  std::map<std::string, crash::CrashGroup> groups;
  for (const CrashEntry& entry : crashes.entries) {  // oldest first
    const v1::CrashSummary& summary = *entry.summary;
    if (summary.fingerprint().empty()) {
      continue;
    }
    crash::CrashGroup& group = groups[summary.fingerprint()];
    const WallTime at = wallTime(summary.time());
    if (group.count == 0) {
      group.fingerprint = summary.fingerprint();
      group.first_seen = at;
      group.first_id = summary.id();
    }
    ++group.count;
    group.first_seen = std::min(group.first_seen, at);
    group.last_seen = std::max(group.last_seen, at);
    group.last_id = summary.id();
    if (summary.core_removed()) {
      ++group.cores_removed;
    }
  }
  std::vector<crash::CrashGroup> out;
  out.reserve(groups.size());
  for (auto& [fingerprint, group] : groups) {
    out.push_back(std::move(group));
  }
  return out;
}

grpc::Status listCrashes(const NodeSnapshot& snapshot, const v1::ListCrashesRequest& request,
                         v1::ListCrashesResponse* response) {
  if (!request.reason().empty() && !knownReason(request.reason())) {
    return invalid("unknown reason " + quoted(request.reason()) +
                   " (exited, signaled, core-dumped or lost)");
  }
  if (request.limit() > kMaxCrashLimit) {
    return invalid("limit " + std::to_string(request.limit()) + " is over " +
                   std::to_string(kMaxCrashLimit));
  }
  if (request.has_since() && request.has_until() && request.until() < request.since()) {
    return invalid("until is before since");
  }
  const uint32_t limit = request.limit() == 0 ? kDefaultCrashLimit : request.limit();
  const CrashState& crashes = snapshot.crashes;
  uint32_t matched = 0;
  std::map<std::string, bool> listed_fingerprints;
  // Ids sort by time: newest first is the entries backwards.
  for (auto it = crashes.entries.rbegin(); it != crashes.entries.rend(); ++it) {
    if (!matches(*it->summary, request)) {
      continue;
    }
    ++matched;
    if (static_cast<uint32_t>(response->crashes_size()) < limit) {
      fillCrashSummary(*it, response->add_crashes());
      listed_fingerprints[it->summary->fingerprint()] = true;
    }
  }
  for (const crash::CrashGroup& group : crashGroups(crashes)) {
    if (listed_fingerprints.count(group.fingerprint) > 0) {
      fillCrashGroup(group, response->add_groups());
    }
  }
  response->set_matched(matched);
  setVersion(snapshot, response->mutable_version());
  return grpc::Status::OK;
}

grpc::Status getCrash(const NodeSnapshot& snapshot, const v1::GetCrashRequest& request, bool admin,
                      v1::GetCrashResponse* response) {
  const CrashEntry* entry = nullptr;
  if (grpc::Status found = findCrash(snapshot.crashes, request.id(), &entry); !found.ok()) {
    return found;
  }
  const v1::CrashIncident& incident = *entry->incident;
  *response->mutable_incident() = incident;
  fillCrashSummary(*entry, response->mutable_summary());
  for (const crash::CrashGroup& group : crashGroups(snapshot.crashes)) {
    if (group.fingerprint == incident.fingerprint()) {
      fillCrashGroup(group, response->mutable_group());
    }
  }
  if (!incident.capture_id().empty()) {
    // The report was moved into the record with it (the snapshot shows written records only).
    const std::string path =
        snapshot.crashes.store_dir + "/" + incident.id() + "/" + crash::kReportFile;
    auto bytes = crash::readWholeFile(path, kMaxReportBytes);
    v1::CaptureReport report;
    if (bytes && report.ParseFromString(*bytes)) {
      report.clear_backtrace();
      if (!admin && report.process().environ_size() > 0) {
        report.mutable_process()->clear_environ();
        response->set_environ_withheld(true);
      }
      *response->mutable_report() = std::move(report);
    }
  }
  setVersion(snapshot, response->mutable_version());
  return grpc::Status::OK;
}

grpc::Status openCore(const CrashState& crashes, const CrashEntry& entry, UniqueFd* fd) {
  const v1::CrashIncident& incident = *entry.incident;
  if (!coreAvailable(incident)) {
    return grpc::Status(StatusCode::FAILED_PRECONDITION,
                        "crash " + incident.id() + " has no core: " + coreMissingReason(incident));
  }
  const std::string path = crashes.store_dir + "/" + incident.id() + "/" + incident.core_path();
  UniqueFd opened(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!opened) {
    const int err = errno;
    if (err == ENOENT) {
      return grpc::Status(StatusCode::NOT_FOUND,
                          "the core of crash " + incident.id() +
                              " is gone: retention removed it just now (the record is kept)");
    }
    return grpc::Status(StatusCode::INTERNAL, "cannot open the core of crash " + incident.id() +
                                                  ": " + Error::fromErrno(path, err).message);
  }
  *fd = std::move(opened);
  return grpc::Status::OK;
}

}  // namespace vigie
