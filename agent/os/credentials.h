#pragma once

#include <string>

#include "vigie/process.h"
#include "vigie/result.h"

namespace vigie {

// Resolves a user (and optionally a group; empty: the user's primary group) to ids and the
// user's supplementary groups, through NSS. Call before the fork, never in the child.
Result<Credentials> resolveCredentials(const std::string& user, const std::string& group);

Result<gid_t> resolveGroup(const std::string& group);

// Only checks that the user exists: what the config loader reports as an error.
Status checkUserExists(const std::string& user);

}  // namespace vigie
