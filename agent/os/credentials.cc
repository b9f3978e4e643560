#include "agent/os/credentials.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <vector>

namespace vigie {
namespace {

// getpwnam_r/getgrnam_r want a caller buffer; 16 KiB holds any sane entry, and ERANGE grows it.
constexpr size_t kInitialBuffer = size_t{16} * 1024;

Result<passwd> lookupUser(const std::string& name, std::vector<char>& buffer) {
  buffer.resize(kInitialBuffer);
  for (;;) {
    passwd entry{};
    passwd* found = nullptr;
    const int err = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (err == ERANGE && buffer.size() < size_t{1} << 24) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (err != 0) {
      return Error::fromErrno("looking up user \"" + name + "\"", err);
    }
    if (found == nullptr) {
      return Error{"unknown user \"" + name + "\"", ENOENT};
    }
    return entry;
  }
}

}  // namespace

Result<gid_t> resolveGroup(const std::string& name) {
  std::vector<char> buffer(kInitialBuffer);
  for (;;) {
    group entry{};
    group* found = nullptr;
    const int err = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (err == ERANGE && buffer.size() < size_t{1} << 24) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (err != 0) {
      return Error::fromErrno("looking up group \"" + name + "\"", err);
    }
    if (found == nullptr) {
      return Error{"unknown group \"" + name + "\"", ENOENT};
    }
    return entry.gr_gid;
  }
}

Result<Credentials> resolveCredentials(const std::string& user, const std::string& group) {
  std::vector<char> buffer;
  auto entry = lookupUser(user, buffer);
  if (!entry) {
    return entry.error();
  }
  Credentials credentials;
  credentials.uid = entry->pw_uid;
  credentials.gid = entry->pw_gid;
  credentials.user = entry->pw_name;
  credentials.home = entry->pw_dir != nullptr ? entry->pw_dir : "/";
  if (!group.empty()) {
    auto gid = resolveGroup(group);
    if (!gid) {
      return gid.error();
    }
    credentials.gid = *gid;
  }
  // The user's groups from the group database, with the chosen primary group first.
  int count = 32;
  std::vector<gid_t> groups(static_cast<size_t>(count));
  while (::getgrouplist(user.c_str(), credentials.gid, groups.data(), &count) < 0) {
    groups.resize(static_cast<size_t>(count));
  }
  groups.resize(static_cast<size_t>(count));
  credentials.groups = std::move(groups);
  return credentials;
}

Status checkUserExists(const std::string& user) {
  std::vector<char> buffer;
  auto entry = lookupUser(user, buffer);
  if (!entry) {
    return entry.error();
  }
  return Status::okStatus();
}

}  // namespace vigie
