#include "agent/config/includes.h"

#include <fmt/format.h>
#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace vigie::config_detail {
namespace {

constexpr std::string_view kGlobSpecials = "*?[";

bool hasWildcards(std::string_view pattern) {
  return pattern.find_first_of(kGlobSpecials) != std::string_view::npos;
}

// The directory of `file` with a trailing slash ("" for a bare file name, which resolves
// relative patterns against the working directory).
std::string directoryOf(const std::string& file) {
  const size_t slash = file.rfind('/');
  return slash == std::string::npos ? std::string() : file.substr(0, slash + 1);
}

// `text` with glob(3)'s special characters escaped, so a directory named "a[1]" is literal.
std::string escapeForGlob(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || kGlobSpecials.find(c) != std::string_view::npos) {
      out += '\\';
    }
    out += c;
  }
  return out;
}

// The first error glob(3) met while reading a directory. glob's error callback takes no user
// data; the loader runs on one thread at a time per call, so a thread_local is enough.
struct GlobFailure {
  std::string path;
  int error = 0;
};
thread_local std::optional<GlobFailure> glob_failure;

int onGlobError(const char* path, int error) {
  if (error == ENOENT) {
    return 0;  // a missing directory just matches nothing, like an empty one.
  }
  glob_failure = GlobFailure{path, error};
  return 1;
}

// The regular files (and anything else that is not a directory) matching `pattern`, sorted.
std::vector<std::string> expand(const std::string& pattern, const Field& from, Diagnostics& diag) {
  glob_t matches{};
  glob_failure.reset();
  const int rc = ::glob(pattern.c_str(), GLOB_MARK | GLOB_NOSORT, onGlobError, &matches);
  std::vector<std::string> paths;
  if (rc == 0) {
    for (size_t i = 0; i < matches.gl_pathc; ++i) {
      std::string path = matches.gl_pathv[i];
      // GLOB_MARK ends directories with "/": a drop-in directory holds files, not directories.
      if (!path.ends_with('/')) {
        paths.push_back(std::move(path));
      }
    }
  } else if (rc == GLOB_ABORTED && glob_failure) {
    reportAt(from,
             fmt::format("cannot read \"{}\": {}", glob_failure->path,
                         std::strerror(glob_failure->error)),
             diag);
  } else if (rc != GLOB_NOMATCH) {
    reportAt(from, fmt::format("cannot expand \"{}\"", pattern), diag);
  }
  ::globfree(&matches);
  glob_failure.reset();
  std::sort(paths.begin(), paths.end());
  return paths;
}

// What identifies a file whatever the path it is reached by.
std::optional<std::pair<dev_t, ino_t>> identityOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return std::nullopt;
  }
  return std::pair(st.st_dev, st.st_ino);
}

}  // namespace

std::vector<IncludeTarget> resolveIncludes(const Field& field, const std::string& including_file,
                                           Diagnostics& diag) {
  std::vector<IncludeTarget> targets;
  // "include:" with every pattern commented out includes nothing.
  if (isAbsent(field) || !expectList(field, diag)) {
    return targets;
  }
  const std::string directory = directoryOf(including_file);
  const auto self = identityOf(including_file);
  std::set<std::pair<dev_t, ino_t>> seen_files;
  std::set<std::string, std::less<>> seen_paths;  // files that could not be identified.

  size_t index = 0;
  for (auto it = field.node.begin(); it != field.node.end(); ++it, ++index) {
    const Field item = field.element(*it, index);
    std::optional<std::string> pattern = readString(item, diag);
    if (!pattern) {
      continue;
    }
    if (pattern->empty()) {
      reportAt(item, "must not be empty", diag);
      continue;
    }
    const bool absolute = (*pattern)[0] == '/';
    std::vector<std::string> paths;
    if (hasWildcards(*pattern)) {
      paths = expand(absolute ? *pattern : escapeForGlob(directory) + *pattern, item, diag);
    } else {
      paths.push_back(absolute ? *pattern : directory + *pattern);
    }
    for (std::string& path : paths) {
      if (const auto identity = identityOf(path)) {
        if (identity == self) {
          if (!hasWildcards(*pattern)) {
            reportAt(item, fmt::format("\"{}\" is the file that includes it", path), diag);
          }
          continue;  // "*.yaml" next to the main file matches the main file: not a drop-in.
        }
        if (!seen_files.insert(*identity).second) {
          continue;
        }
      } else if (!seen_paths.insert(path).second) {
        continue;
      }
      targets.push_back(IncludeTarget{std::move(path), item});
    }
  }
  return targets;
}

}  // namespace vigie::config_detail
