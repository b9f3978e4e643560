#include "agent/crash/incident_store.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>

#include <google/protobuf/util/json_util.h>

#include "agent/coredump/capture_id.h"
#include "agent/crash/durable_files.h"

namespace vigie::crash {

namespace pbu = google::protobuf::util;
namespace fs = std::filesystem;

namespace {

constexpr const char* kTempPrefix = ".tmp-";
constexpr size_t kMaxMetadataBytes = size_t{16} << 20;

std::vector<std::string> listNames(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

std::string incidentToJson(const v1::CrashIncident& incident) {
  pbu::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = true;
  std::string json;
  (void)pbu::MessageToJsonString(incident, &json, options);
  return json;
}

Result<v1::CrashIncident> incidentFromJson(const std::string& json) {
  v1::CrashIncident incident;
  pbu::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const auto status = pbu::JsonStringToMessage(json, &incident, options);
  if (!status.ok()) {
    return Error{"bad incident JSON: " + status.ToString(), EINVAL};
  }
  return incident;
}

IncidentStore::IncidentStore(std::string dir, std::string spool_dir, std::string kill_at_for_test)
    : dir_(std::move(dir)),
      spool_dir_(std::move(spool_dir)),
      kill_at_(std::move(kill_at_for_test)) {}

void IncidentStore::maybeKill(const char* step) const {
  if (!kill_at_.empty() && kill_at_ == step) {
    ::raise(SIGKILL);
  }
}

Status IncidentStore::open() {
  return makePrivateDir(dir_);
}

IncidentStore::Loaded IncidentStore::load() {
  Loaded loaded;
  for (const auto& name : listNames(dir_)) {
    if (name.rfind(kTempPrefix, 0) == 0) {
      (void)removeTree(dir_ + "/" + name);
      loaded.removed_temp.push_back(name);
      continue;
    }
    if (!coredump::isCaptureId(name)) {
      continue;  // the spool, the saved core_pattern...
    }
    auto json = readWholeFile(recordDir(name) + "/" + kIncidentFile, kMaxMetadataBytes);
    if (!json) {
      loaded.unreadable.push_back(name + ": " + json.error().message);
      continue;
    }
    auto incident = incidentFromJson(*json);
    if (!incident || incident->id() != name) {
      loaded.unreadable.push_back(name + ": " +
                                  (incident ? "id does not match" : incident.error().message));
      continue;
    }
    loaded.incidents.push_back(std::move(*incident));
  }
  return loaded;
}

std::vector<std::string> IncidentStore::listSpool() const {
  std::vector<std::string> entries;
  for (auto& name : listNames(spool_dir_)) {
    if (coredump::isCaptureId(name)) {
      entries.push_back(std::move(name));
    }
  }
  return entries;
}

Result<v1::CaptureReport> IncidentStore::readSpoolReport(const std::string& entry) const {
  if (!coredump::isCaptureId(entry)) {
    return Error{"not a spool entry name: \"" + entry + "\"", EINVAL};
  }
  auto bytes = readWholeFile(spool_dir_ + "/" + entry + "/" + kReportFile, kMaxMetadataBytes);
  if (!bytes) {
    return bytes.error();
  }
  v1::CaptureReport report;
  if (!report.ParseFromString(*bytes)) {
    return Error{"spool entry " + entry + ": report.pb is not a CaptureReport", EINVAL};
  }
  return report;
}

void IncidentStore::removeSpoolEntry(const std::string& entry) const {
  if (coredump::isCaptureId(entry)) {
    (void)removeTree(spool_dir_ + "/" + entry);
  }
}

Status IncidentStore::moveEntryFiles(const std::string& entry, const std::string& into) const {
  const std::string from = spool_dir_ + "/" + entry;
  for (const char* name : {kReportFile, kCoreFile}) {
    const std::string source = from + "/" + name;
    if (::access(source.c_str(), F_OK) != 0) {
      continue;
    }
    const std::string target = into + "/" + name;
    if (::rename(source.c_str(), target.c_str()) != 0) {
      if (errno != EXDEV) {
        return Error::fromErrno("rename " + source);
      }
      // The spool on another filesystem: copy, sync, then drop the source.
      std::error_code ec;
      fs::copy_file(source, target, fs::copy_options::overwrite_existing, ec);
      if (ec) {
        return Error{"copy " + source + ": " + ec.message(), ec.value()};
      }
      if (auto synced = fsyncPath(target); !synced) {
        return synced;
      }
      ::unlink(source.c_str());
    }
  }
  return {};
}

Status IncidentStore::create(const v1::CrashIncident& incident, const std::string& adopt_entry) {
  const std::string tmp = dir_ + "/" + kTempPrefix + incident.id();
  (void)removeTree(tmp);
  if (::mkdir(tmp.c_str(), 0700) != 0) {
    return Error::fromErrno("mkdir " + tmp);
  }
  if (!adopt_entry.empty()) {
    if (auto moved = moveEntryFiles(adopt_entry, tmp); !moved) {
      return moved;
    }
  }
  if (auto written = writeNewFileSynced(tmp + "/" + kIncidentFile, incidentToJson(incident));
      !written) {
    return written;
  }
  if (auto synced = fsyncPath(tmp); !synced) {
    return synced;
  }
  maybeKill("create-before-rename");
  const std::string target = recordDir(incident.id());
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    return Error::fromErrno("rename " + tmp);
  }
  if (auto synced = fsyncPath(dir_); !synced) {
    return synced;
  }
  if (!adopt_entry.empty()) {
    removeSpoolEntry(adopt_entry);
  }
  return {};
}

Status IncidentStore::update(const v1::CrashIncident& incident, const std::string& adopt_entry) {
  const std::string target = recordDir(incident.id());
  if (!adopt_entry.empty()) {
    if (auto moved = moveEntryFiles(adopt_entry, target); !moved) {
      return moved;
    }
    if (auto synced = fsyncPath(target); !synced) {
      return synced;
    }
  }
  maybeKill("update-before-rename");
  if (auto replaced = replaceFileDurably(target, kIncidentFile, incidentToJson(incident));
      !replaced) {
    return replaced;
  }
  if (!adopt_entry.empty()) {
    removeSpoolEntry(adopt_entry);
  }
  return {};
}

Status IncidentStore::removeCore(const std::string& id) {
  const std::string path = recordDir(id) + "/" + kCoreFile;
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Error::fromErrno("unlink " + path);
  }
  return fsyncPath(recordDir(id));
}

Status IncidentStore::remove(const std::string& id) {
  // Renamed away first: a crash half-way through the removal leaves a temp dir, never a
  // record with missing files.
  const std::string doomed = dir_ + "/" + kTempPrefix + id;
  if (::rename(recordDir(id).c_str(), doomed.c_str()) != 0) {
    return Error::fromErrno("rename " + recordDir(id));
  }
  (void)fsyncPath(dir_);
  return removeTree(doomed);
}

uint64_t IncidentStore::recordBytes(const std::string& id) const {
  uint64_t total = 0;
  std::error_code ec;
  for (fs::directory_iterator it(recordDir(id), ec), end; !ec && it != end; it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0) {
      total += static_cast<uint64_t>(st.st_blocks) * 512;
    }
  }
  return total;
}

uint64_t IncidentStore::usedBytes() const {
  uint64_t total = 0;
  for (const auto& name : listNames(dir_)) {
    if (coredump::isCaptureId(name)) {
      total += recordBytes(name);
    }
  }
  return total;
}

Result<IncidentStore::FsSpace> IncidentStore::space() const {
  struct statvfs st {};
  if (::statvfs(dir_.c_str(), &st) != 0) {
    return Error::fromErrno("statvfs " + dir_);
  }
  return FsSpace{static_cast<uint64_t>(st.f_blocks) * st.f_frsize,
                 static_cast<uint64_t>(st.f_bavail) * st.f_frsize};
}

}  // namespace vigie::crash
