// Loads the agent's YAML config. yaml-cpp only gives us a tree; everything about what the tree
// may contain is checked here, collecting every error so a user can fix them in one pass.

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <exception>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/config/includes.h"
#include "agent/config/section_parsers.h"
#include "agent/config/workload_parser.h"
#include "agent/config/yaml_fields.h"
#include "vigie/config.h"

namespace vigie {
namespace {

using config_detail::Diagnostics;
using config_detail::Field;
using config_detail::MapView;

// Reads a whole file; on failure returns false with errno set.
bool readFile(const std::string& path, std::string& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  char buffer[64 * 1024];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) {
      break;
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int saved = errno;
      ::close(fd);
      errno = saved;
      return false;
    }
    out.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

// Reads the main file and its drop-ins into one config. Workload names are unique across them.
class ConfigReader {
 public:
  explicit ConfigReader(AgentConfig& config) : config_(config) {}

  // The main file: workloads, storage, api, metrics and the drop-ins to read next.
  void parseMain(const YAML::Node& root, Diagnostics& diag,
                 std::vector<config_detail::IncludeTarget>& includes) {
    std::optional<MapView> view = openRoot(root, diag);
    if (!view) {
      return;
    }
    view->reportUnknownKeys(kTopLevelKeys, "at top level", diag);
    if (const config_detail::MapEntry* workloads = view->find("workloads")) {
      parseWorkloads(workloads->field(""), diag);
    }
    if (const config_detail::MapEntry* storage = view->find("storage")) {
      config_detail::readStorage(*storage, config_.storage, diag);
    }
    if (const config_detail::MapEntry* api = view->find("api")) {
      config_detail::readApi(*api, config_.api, diag);
    }
    if (const config_detail::MapEntry* metrics = view->find("metrics")) {
      config_detail::readMetrics(*metrics, config_.metrics, diag);
    }
    if (const config_detail::MapEntry* crash = view->find("crash")) {
      config_detail::readCrash(*crash, config_.crash, diag);
    }
    if (const config_detail::MapEntry* cgroups = view->find("cgroups")) {
      config_detail::readCgroups(*cgroups, config_.cgroups, diag);
    }
    if (const config_detail::MapEntry* include = view->find("include")) {
      includes = config_detail::resolveIncludes(include->field(""), config_.path, diag);
    }
  }

  // A drop-in: the same shape, but only workloads.
  void parseDropIn(const YAML::Node& root, Diagnostics& diag) {
    std::optional<MapView> view = openRoot(root, diag);
    if (!view) {
      return;
    }
    view->reportUnknownKeys(kTopLevelKeys, "at top level", diag);
    if (const config_detail::MapEntry* include = view->find("include")) {
      diag.report(include->key_mark, "nested include is not supported");
    }
    for (std::string_view main_only : {"storage", "api", "metrics", "crash", "cgroups"}) {
      if (const config_detail::MapEntry* entry = view->find(main_only)) {
        diag.report(entry->key_mark,
                    fmt::format("\"{}\" is only allowed in the main config file", main_only));
      }
    }
    if (const config_detail::MapEntry* workloads = view->find("workloads")) {
      parseWorkloads(workloads->field(""), diag);
    }
  }

 private:
  static constexpr std::array<std::string_view, 7> kTopLevelKeys{
      "workloads", "include", "storage", "api", "metrics", "crash", "cgroups"};

  static std::optional<MapView> openRoot(const YAML::Node& root, Diagnostics& diag) {
    if (root.IsNull()) {
      return std::nullopt;  // an empty file: no workloads.
    }
    if (!root.IsMap()) {
      diag.report(root.Mark(), "expected a map at top level (with a \"workloads\" list)");
      return std::nullopt;
    }
    return MapView(root, diag);
  }

  void parseWorkloads(const Field& field, Diagnostics& diag) {
    // "workloads:" with every entry commented out means no workloads, like "workloads: []".
    if (config_detail::isAbsent(field) || !config_detail::expectList(field, diag)) {
      return;
    }
    size_t index = 0;
    for (auto it = field.node.begin(); it != field.node.end(); ++it, ++index) {
      config_detail::ParsedWorkload parsed =
          config_detail::parseWorkload(field.element(*it, index), diag);
      if (parsed.name_mark) {
        auto [seen, inserted] = first_defined_.emplace(parsed.spec.name, parsed.spec.location);
        if (!inserted) {
          const SourceLocation& first = seen->second;
          const std::string where = first.file == diag.file()
                                        ? fmt::format("line {}", first.line)
                                        : fmt::format("{}:{}", first.file, first.line);
          diag.report(*parsed.name_mark,
                      fmt::format("duplicate workload name \"{}\" (first defined at {})",
                                  parsed.spec.name, where));
        }
      }
      config_.workloads.push_back(std::move(parsed.spec));
    }
  }

  AgentConfig& config_;
  std::map<std::string, SourceLocation, std::less<>> first_defined_;  // workload name: where.
};

// Watches the start of the first two documents of a stream, without building them.
class DocumentWatcher : public YAML::EventHandler {
 public:
  // Where a second document with content starts.
  std::optional<YAML::Mark> secondDocument() const { return second_document_; }
  // Where yaml-cpp 0.7 got stuck: on some malformed input (a stray "," at the top) it yields
  // an empty document without consuming anything, again and again. YAML::Load then returns a
  // null node, which would pass for an empty config.
  std::optional<YAML::Mark> stuckAt() const { return stuck_at_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (documents_ > 0 && mark.pos == start_.pos) {
      stuck_at_ = mark;
    }
    ++documents_;
    start_ = mark;
  }
  void OnDocumentEnd() override {}
  // A trailing "---" makes an empty extra document: harmless.
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { content(); }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {
    content();
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    content();
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    content();
  }
  void OnMapEnd() override {}

 private:
  void content() {
    if (documents_ >= 2 && !second_document_) {
      second_document_ = start_;
    }
  }

  int documents_ = 0;
  YAML::Mark start_;
  std::optional<YAML::Mark> second_document_;
  std::optional<YAML::Mark> stuck_at_;
};

// Checks what YAML::Load does not: that the text holds one document, and that yaml-cpp did not
// give up silently. Reads at most two documents, as YAML::LoadAll never ends on stuck input.
void checkDocuments(const std::string& text, Diagnostics& diag) {
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  DocumentWatcher watcher;
  int documents = 0;
  while (documents < 2 && parser.HandleNextDocument(watcher)) {
    ++documents;
  }
  if (auto mark = watcher.stuckAt()) {
    const auto pos = static_cast<size_t>(mark->pos);
    diag.report(*mark, pos < text.size() ? fmt::format("invalid YAML: unexpected \"{}\"", text[pos])
                                         : std::string("invalid YAML"));
  } else if (auto second = watcher.secondDocument()) {
    diag.report(*second, "expected a single YAML document (remove the extra \"---\")");
  }
}

// Parses `text` and hands its root to `parse`, turning anything yaml-cpp throws (parser errors,
// and anything thrown while walking the tree) into an error of `diag`.
template <class Parse>
void parseDocument(const std::string& text, Diagnostics& diag, Parse&& parse) {
  try {
    const YAML::Node root = YAML::Load(text);
    checkDocuments(text, diag);
    parse(root);
  } catch (const YAML::DeepRecursion& e) {
    diag.report(e.mark, "invalid YAML: nested too deeply");
  } catch (const YAML::Exception& e) {
    diag.report(e.mark, fmt::format("invalid YAML: {}", e.msg));
  } catch (const std::exception& e) {
    diag.report(YAML::Mark::null_mark(), fmt::format("cannot load config: {}", e.what()));
  }
}

}  // namespace

ConfigLoadResult loadConfigString(const std::string& text, const std::string& path) {
  ConfigLoadResult result;
  result.config.path = path;
  ConfigReader reader(result.config);
  Diagnostics diag(path);
  std::vector<config_detail::IncludeTarget> includes;
  parseDocument(text, diag,
                [&](const YAML::Node& root) { reader.parseMain(root, diag, includes); });

  // Drop-ins come after the main file, in include order; each names its own file in errors.
  std::vector<ConfigError> drop_in_errors;
  for (const config_detail::IncludeTarget& include : includes) {
    std::string drop_in;
    if (!readFile(include.path, drop_in)) {
      const int err = errno;
      config_detail::reportAt(
          include.from, fmt::format("cannot read \"{}\": {}", include.path, std::strerror(err)),
          diag);
      continue;
    }
    result.config.included_files.push_back(include.path);
    Diagnostics drop_in_diag(include.path);
    parseDocument(drop_in, drop_in_diag,
                  [&](const YAML::Node& root) { reader.parseDropIn(root, drop_in_diag); });
    for (ConfigError& error : drop_in_diag.take()) {
      drop_in_errors.push_back(std::move(error));
    }
  }
  result.errors = diag.take();
  for (ConfigError& error : drop_in_errors) {
    result.errors.push_back(std::move(error));
  }
  return result;
}

ConfigLoadResult loadConfigFile(const std::string& path) {
  std::string text;
  if (!readFile(path, text)) {
    const int err = errno;
    ConfigLoadResult result;
    result.config.path = path;
    result.errors.push_back(ConfigError{SourceLocation{path, 0, 0}, std::strerror(err)});
    return result;
  }
  return loadConfigString(text, path);
}

}  // namespace vigie
