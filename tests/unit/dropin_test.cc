// Drop-in config files: the top-level `include:` list, read after the main file.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "vigie/config.h"

namespace vigie {
namespace {

// A scratch directory tree removed at the end of the test.
class DropInDir {
 public:
  DropInDir() {
    std::string pattern = "/tmp/vigie-dropin-test-XXXXXX";
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~DropInDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  DropInDir(const DropInDir&) = delete;
  DropInDir& operator=(const DropInDir&) = delete;

  // Writes `name` (which may hold directories, created as needed); returns its full path.
  std::string write(const std::string& name, const std::string& text) {
    std::string file = path_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(file).parent_path());
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fd);
    return file;
  }
  std::string mkdir(const std::string& name) {
    std::string dir = path_ + "/" + name;
    std::filesystem::create_directories(dir);
    return dir;
  }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::vector<std::string> errorsOf(const ConfigLoadResult& result) {
  std::vector<std::string> formatted;
  for (const ConfigError& error : result.errors) {
    formatted.push_back(error.format());
  }
  return formatted;
}

std::vector<std::string> namesOf(const AgentConfig& config) {
  std::vector<std::string> names;
  for (const WorkloadSpec& workload : config.workloads) {
    names.push_back(workload.name);
  }
  return names;
}

ConfigLoadResult loadValid(const std::string& path) {
  ConfigLoadResult result = loadConfigFile(path);
  for (const ConfigError& error : result.errors) {
    FAIL_CHECK(error.format());
  }
  REQUIRE(result.ok());
  return result;
}

TEST_CASE("dropin: workloads come from the main file, then each drop-in in sorted order") {
  DropInDir dir;
  const std::string main = dir.write("vigie.yaml", R"(include: ["workloads.d/*.yaml", "extra.yaml"]
workloads:
  - {name: main, exec: [m]}
)");
  // Written out of order: the order is the sorted names, not the directory's.
  dir.write("workloads.d/20-b.yaml", "workloads:\n  - {name: b, exec: [b]}\n");
  dir.write("workloads.d/10-a.yaml", "workloads:\n  - {name: a, exec: [a]}\n");
  dir.write("workloads.d/README", "not yaml: [\n");
  dir.mkdir("workloads.d/30-dir.yaml");  // a directory matched by the pattern: skipped.
  dir.write("extra.yaml", "workloads:\n  - {name: extra, exec: [e]}\n");

  const ConfigLoadResult loaded = loadValid(main);
  CHECK(loaded.config.path == main);
  CHECK(namesOf(loaded.config) == std::vector<std::string>{"main", "a", "b", "extra"});
  CHECK(loaded.config.included_files == std::vector<std::string>{dir / "workloads.d/10-a.yaml",
                                                                 dir / "workloads.d/20-b.yaml",
                                                                 dir / "extra.yaml"});
  const WorkloadSpec& a = loaded.config.workloads[1];
  CHECK(a.location.file == dir / "workloads.d/10-a.yaml");
  CHECK(a.location.line == 2);
  CHECK(a.location.column == 5);
  CHECK(loaded.config.workloads[0].location.file == main);
}

TEST_CASE("dropin: a file matched twice is read once, and the main file is not its own drop-in") {
  DropInDir dir;
  const std::string main = dir.write("vigie.yaml", R"(include:
  - "*.yaml"
  - workloads.d/*.yaml
  - workloads.d/10-a.yaml
  - ./workloads.d/10-a.yaml
workloads:
  - {name: main, exec: [m]}
)");
  dir.write("extra.yaml", "workloads:\n  - {name: extra, exec: [e]}\n");
  dir.write("workloads.d/10-a.yaml", "workloads:\n  - {name: a, exec: [a]}\n");
  dir.write("workloads.d/20-b.yaml", "");  // an empty drop-in adds nothing, like an empty file.

  const ConfigLoadResult loaded = loadValid(main);
  CHECK(namesOf(loaded.config) == std::vector<std::string>{"main", "extra", "a"});
  CHECK(loaded.config.included_files == std::vector<std::string>{dir / "extra.yaml",
                                                                 dir / "workloads.d/10-a.yaml",
                                                                 dir / "workloads.d/20-b.yaml"});
}

TEST_CASE("dropin: errors name the drop-in file and its line") {
  DropInDir dir;
  const std::string main = dir.write("vigie.yaml", R"(include: [workloads.d/*.yaml]
workloads:
  - name: main
    exec: [m]
    cwd: relative
)");
  const std::string a = dir.write("workloads.d/10-a.yaml", "workloads: [a\n");
  const std::string b = dir.write("workloads.d/20-b.yaml", R"(workloads:
  - name: b
    exec: [b]
    stop: {signal: NOPE}
  - name: c
    exce: [c]
)");
  const std::string c = dir.write("workloads.d/30-c.yaml", "workload: []\n");

  const ConfigLoadResult loaded = loadConfigFile(main);
  // The main file's errors first, then each drop-in's, each in file order.
  CHECK(errorsOf(loaded) ==
        std::vector<std::string>{
            main + ":5:10: workloads[0].cwd: \"relative\" is not an absolute path",
            a + ":2:1: invalid YAML: end of sequence flow not found",
            b + ":4:20: workloads[0].stop.signal: invalid signal \"NOPE\": expected a name such "
                "as SIGTERM, TERM or SIGRTMIN+1, or a number between 1 and 64",
            b + ":5:5: missing required key \"exec\"",
            b + ":6:5: unknown key \"exce\" in workload \"c\" (did you mean \"exec\"?)",
            c + ":1:1: unknown key \"workload\" at top level (did you mean \"workloads\"?)",
        });
  // Every drop-in was read, even the broken ones.
  CHECK(loaded.config.included_files == std::vector<std::string>{a, b, c});
}

TEST_CASE("dropin: include and storage are only allowed in the main file") {
  DropInDir dir;
  const std::string main = dir.write("vigie.yaml", "include: [workloads.d/*.yaml]\n");
  const std::string drop_in = dir.write("workloads.d/10-a.yaml", R"(include: [../other.yaml]
storage: {max_use: 1GiB}
workloads:
  - {name: a, exec: [a]}
)");
  // Never read: it would add an error.
  dir.write("other.yaml", "bad: key\n");

  const ConfigLoadResult loaded = loadConfigFile(main);
  CHECK(errorsOf(loaded) ==
        std::vector<std::string>{
            drop_in + ":1:1: nested include is not supported",
            drop_in + ":2:1: \"storage\" is only allowed in the main config file",
        });
  CHECK(loaded.config.included_files == std::vector<std::string>{drop_in});
  CHECK(loaded.config.storage.max_use == uint64_t{1} << 30);
  CHECK(namesOf(loaded.config) == std::vector<std::string>{"a"});
}

TEST_CASE("dropin: workload names are unique across the main file and every drop-in") {
  DropInDir dir;
  const std::string main = dir.write("vigie.yaml", R"(include: [workloads.d/*.yaml]
workloads:
  - name: web
    exec: [web]
)");
  const std::string a = dir.write("workloads.d/10-a.yaml", R"(workloads:
  - name: api
    exec: [api]
  - name: web
    exec: [web2]
)");
  const std::string b = dir.write("workloads.d/20-b.yaml", R"(workloads:
  - {name: api, exec: [x]}
  - {name: b, exec: [b]}
  - {name: b, exec: [b]}
)");
  CHECK(errorsOf(loadConfigFile(main)) ==
        std::vector<std::string>{
            a + ":4:11: duplicate workload name \"web\" (first defined at " + main + ":3)",
            b + ":2:12: duplicate workload name \"api\" (first defined at " + a + ":2)",
            b + ":4:12: duplicate workload name \"b\" (first defined at line 3)",
        });
}

TEST_CASE("dropin: a missing literal path is an error, a pattern that matches nothing is not") {
  DropInDir dir;
  dir.write("workloads.d/10-a.yaml", "workloads:\n  - {name: a, exec: [a]}\n");

  SUBCASE("patterns that match nothing") {
    const std::string main = dir.write(
        "vigie.yaml", "include: [\"conf.d/*.yaml\", \"*.yml\", \"/nonexistent-vigie/*.yaml\"]\n");
    const ConfigLoadResult loaded = loadValid(main);
    CHECK(loaded.config.included_files.empty());
    CHECK(loaded.config.workloads.empty());
  }
  SUBCASE("a missing literal path") {
    const std::string main = dir.write("vigie.yaml", "include: [missing.yaml]\n");
    CHECK(errorsOf(loadConfigFile(main)) ==
          std::vector<std::string>{main + ":1:11: include[0]: cannot read \"" +
                                   (dir / "missing.yaml") + "\": No such file or directory"});
  }
  SUBCASE("an absolute literal path") {
    const std::string main =
        dir.write("vigie.yaml", "include: [\"" + (dir / "workloads.d/10-a.yaml") + "\"]\n");
    const ConfigLoadResult loaded = loadValid(main);
    CHECK(loaded.config.included_files == std::vector<std::string>{dir / "workloads.d/10-a.yaml"});
    CHECK(namesOf(loaded.config) == std::vector<std::string>{"a"});
  }
  SUBCASE("malformed entries") {
    const std::string main = dir.write("vigie.yaml", R"(include:
  - workloads.d/*.yaml
  - missing.yaml
  - ""
  - [a]
  - workloads.d
  - vigie.yaml
)");
    const ConfigLoadResult loaded = loadConfigFile(main);
    CHECK(errorsOf(loaded) ==
          std::vector<std::string>{
              main + ":3:5: include[1]: cannot read \"" + (dir / "missing.yaml") +
                  "\": No such file or directory",
              main + ":4:5: include[2]: must not be empty",
              main + ":5:5: include[3]: expected a string",
              main + ":6:5: include[4]: cannot read \"" + (dir / "workloads.d") +
                  "\": Is a directory",
              main + ":7:5: include[5]: \"" + main + "\" is the file that includes it",
          });
    // What could be read still was.
    CHECK(loaded.config.included_files == std::vector<std::string>{dir / "workloads.d/10-a.yaml"});
  }
  SUBCASE("not a list") {
    const std::string main = dir.write("vigie.yaml", "include: workloads.d/*.yaml\n");
    CHECK(errorsOf(loadConfigFile(main)) ==
          std::vector<std::string>{main + ":1:10: include: expected a list"});
  }
  SUBCASE("an empty include") {
    const std::string main = dir.write("vigie.yaml", "include:\nworkloads: []\n");
    CHECK(loadValid(main).config.included_files.empty());
  }
}

TEST_CASE("dropin: relative patterns resolve against the including file's directory") {
  DropInDir dir;
  // Glob characters in the directory's own name are taken literally.
  const std::string main =
      dir.write("odd[1]*/vigie.yaml", "include: [workloads.d/*.yaml, more/../extra.yaml]\n");
  dir.write("odd[1]*/workloads.d/10-a.yaml", "workloads:\n  - {name: a, exec: [a]}\n");
  dir.write("odd[1]*/extra.yaml", "workloads:\n  - {name: extra, exec: [e]}\n");
  dir.mkdir("odd[1]*/more");
  // What "odd[1]*" would match as a pattern.
  dir.write("odd1x/workloads.d/10-a.yaml", "workloads:\n  - {name: wrong, exec: [w]}\n");

  const ConfigLoadResult loaded = loadValid(main);
  CHECK(namesOf(loaded.config) == std::vector<std::string>{"a", "extra"});
  CHECK(loaded.config.included_files ==
        std::vector<std::string>{dir / "odd[1]*/workloads.d/10-a.yaml",
                                 dir / "odd[1]*/more/../extra.yaml"});

  // loadConfigString resolves against its path's directory too, whether the file exists or not.
  const ConfigLoadResult from_text =
      loadConfigString("include: [\"odd[[]1]*/workloads.d/*.yaml\"]\n", dir / "virtual.yaml");
  CHECK(from_text.ok());
  CHECK(from_text.config.included_files ==
        std::vector<std::string>{dir / "odd[1]*/workloads.d/10-a.yaml"});
}

}  // namespace
}  // namespace vigie
