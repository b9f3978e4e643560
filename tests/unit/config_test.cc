// The YAML config loader: accepted shapes, defaults, and every error with its exact position.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "tests/fakes/config_strings.h"
#include "tests/fakes/temp_dir.h"
#include "vigie/config.h"

namespace vigie {
namespace {

using testing::configOf;
using testing::errorOf;
using testing::errorsOf;
using testing::kConfigFile;

// A workload with one extra line under it, for checking one key at a time. The extra lines
// start at line 4, column 5.
std::string workloadWith(const std::string& lines) {
  return "workloads:\n"
         "  - name: web\n"
         "    exec: [/bin/web]\n" +
         lines;
}

TEST_CASE("empty configs are valid and have no workloads") {
  CHECK(configOf("").workloads.empty());
  CHECK(configOf("# nothing here yet\n").workloads.empty());
  CHECK(configOf("workloads: []\n").workloads.empty());
  CHECK(configOf("workloads:\n").workloads.empty());
  CHECK(configOf("{}\n").workloads.empty());
  CHECK(configOf("workloads: []\n---\n").workloads.empty());
}

TEST_CASE("a minimal workload gets every default") {
  const AgentConfig config = configOf(R"(workloads:
  - name: web
    exec: [/usr/bin/web, --port, "8080"]
)");
  CHECK(config.path == kConfigFile);
  REQUIRE(config.workloads.size() == 1);
  const WorkloadSpec& web = config.workloads[0];
  CHECK(web.name == "web");
  CHECK(web.exec == std::vector<std::string>{"/usr/bin/web", "--port", "8080"});
  CHECK(web.env.empty());
  CHECK(web.cwd.empty());
  CHECK(web.restart.policy == RestartPolicyKind::kAlways);
  CHECK(web.restart.backoff.initial == 100ms);
  CHECK(web.restart.backoff.max == 30s);
  CHECK(web.restart.backoff.reset_after == 60s);
  CHECK(web.restart.limit.burst == 10);
  CHECK(web.restart.limit.interval == 60s);
  CHECK(web.success_exit_codes == std::vector<int>{0});
  CHECK(web.stop.signal == SIGTERM);
  CHECK(web.stop.timeout == 10s);
  CHECK(web.output.tail == 64 * 1024);
  CHECK(web.history == 5);
  CHECK(web.location.file == kConfigFile);
  CHECK(web.location.line == 2);
  CHECK(web.location.column == 5);
}

TEST_CASE("every key of a workload is read") {
  const AgentConfig config = configOf(R"(workloads:
  - name: worker.v2_a-1
    exec:
      - worker
      - --queue
      - ""
    env:
      QUEUE: jobs
      _DEBUG: "1"
      RETRIES: 3
    cwd: /srv/worker
    restart:
      policy: on-failure
      backoff: {initial: 0s, max: 1m, reset_after: 5m}
      limit: {burst: 0, interval: 0}
    success_exit_codes: [0, 3, 255]
    stop: {signal: SIGINT, timeout: 1.5s}
    output: {tail: 1MiB}
    history: 1000
  - {name: batch, exec: [/bin/batch], restart: {policy: never}, stop: {signal: 9}}
)");
  REQUIRE(config.workloads.size() == 2);
  const WorkloadSpec& worker = config.workloads[0];
  CHECK(worker.name == "worker.v2_a-1");
  CHECK(worker.exec == std::vector<std::string>{"worker", "--queue", ""});
  using Env = std::vector<std::pair<std::string, std::string>>;
  CHECK(worker.env == Env{{"QUEUE", "jobs"}, {"_DEBUG", "1"}, {"RETRIES", "3"}});
  CHECK(worker.cwd == "/srv/worker");
  CHECK(worker.restart.policy == RestartPolicyKind::kOnFailure);
  CHECK(worker.restart.backoff.initial == Duration::zero());
  CHECK(worker.restart.backoff.max == 1min);
  CHECK(worker.restart.backoff.reset_after == 5min);
  CHECK(worker.restart.limit.burst == 0);
  CHECK(worker.restart.limit.interval == Duration::zero());
  CHECK(worker.success_exit_codes == std::vector<int>{0, 3, 255});
  CHECK(worker.stop.signal == SIGINT);
  CHECK(worker.stop.timeout == 1500ms);
  CHECK(worker.output.tail == 1024 * 1024);
  CHECK(worker.history == 1000);

  const WorkloadSpec& batch = config.workloads[1];
  CHECK(batch.restart.policy == RestartPolicyKind::kNever);
  CHECK(batch.stop.signal == SIGKILL);
  CHECK(batch.location.line == 20);
  CHECK(batch.location.column == 5);
}

TEST_CASE("edge values inside the allowed ranges are accepted") {
  const AgentConfig config = configOf(workloadWith(R"(    restart:
      policy: always
      backoff: {initial: 30s, max: 30s, reset_after: 0}
      limit: {burst: 4294967295, interval: 1ns}
    success_exit_codes: []
    output: {tail: 1KiB}
    history: 1
    env: {}
  - name: b
    exec: [b]
    output: {tail: 64MiB}
    env:
  - name: c
    exec: [c]
    restart: {backoff: {initial: 5m, max: 0s}}
)"));
  REQUIRE(config.workloads.size() == 3);
  CHECK(config.workloads[0].restart.limit.burst == 4294967295u);
  CHECK(config.workloads[0].success_exit_codes.empty());
  CHECK(config.workloads[0].output.tail == 1024);
  CHECK(config.workloads[0].history == 1);
  CHECK(config.workloads[1].output.tail == 64 * 1024 * 1024);
  // max 0 turns backoff off, so any initial is fine.
  CHECK(config.workloads[2].restart.backoff.max == Duration::zero());
  CHECK(config.workloads[2].restart.backoff.initial == 5min);
}

TEST_CASE("the name of a workload is checked") {
  CHECK(errorOf(workloadWith("  - name: a b\n    exec: [x]\n")) ==
        "vigie.yaml:4:11: workloads[1].name: invalid name \"a b\" (use only letters, digits, "
        "\"_\", \".\" and \"-\")");
  CHECK(errorOf(workloadWith("  - name: \"\"\n    exec: [x]\n")) ==
        "vigie.yaml:4:11: workloads[1].name: name must not be empty");
  CHECK(errorOf(workloadWith("  - name: ..\n    exec: [x]\n")) ==
        "vigie.yaml:4:11: workloads[1].name: invalid name \"..\"");
  CHECK(errorOf(workloadWith("  - name: [a]\n    exec: [x]\n")) ==
        "vigie.yaml:4:11: workloads[1].name: expected a string");
  const std::string long_name(65, 'n');
  CHECK(errorOf(workloadWith("  - name: " + long_name + "\n    exec: [x]\n")) ==
        "vigie.yaml:4:11: workloads[1].name: name \"" + long_name +
            "\" is longer than 64 characters");
  CHECK(configOf(workloadWith("  - name: " + std::string(64, 'n') + "\n    exec: [x]\n"))
            .workloads[1]
            .name.size() == 64);
}

TEST_CASE("missing required keys point at the entry") {
  CHECK(errorsOf(R"(workloads:
  - exec: [/bin/a]
  - name: b
  -   cwd: /tmp
)") == std::vector<std::string>{
           "vigie.yaml:2:5: missing required key \"name\"",
           "vigie.yaml:3:5: missing required key \"exec\"",
           "vigie.yaml:4:7: missing required key \"name\"",
           "vigie.yaml:4:7: missing required key \"exec\"",
       });
}

TEST_CASE("exec must be a non-empty list of strings") {
  CHECK(errorOf(R"(workloads:
  - name: web
    exec: /bin/web
)") == "vigie.yaml:3:11: workloads[0].exec: expected a list");
  CHECK(errorOf(R"(workloads:
  - name: web
    exec: []
)") == "vigie.yaml:3:11: workloads[0].exec: must not be empty (expected the program and its "
       "arguments)");
  // An empty value has no position of its own: the error points at its key.
  CHECK(errorOf(R"(workloads:
  - name: web
    exec:
    cwd: /
)") == "vigie.yaml:3:5: workloads[0].exec: expected a list");
  CHECK(errorsOf(R"(workloads:
  - name: web
    exec: ["", {a: b}, [c]]
)") == std::vector<std::string>{
           "vigie.yaml:3:12: workloads[0].exec[0]: the program must not be empty",
           "vigie.yaml:3:16: workloads[0].exec[1]: expected a string",
           "vigie.yaml:3:24: workloads[0].exec[2]: expected a string",
       });
}

TEST_CASE("env must map valid variable names to strings") {
  CHECK(errorsOf(workloadWith(R"(    env:
      1ABC: x
      GOOD: [x]
      BAD-NAME: y
      EMPTY:
      OK: ok
)")) == std::vector<std::string>{
            "vigie.yaml:5:7: workloads[0].env: invalid variable name \"1ABC\" (expected "
            "letters, digits and \"_\", not starting with a digit)",
            "vigie.yaml:6:13: workloads[0].env.GOOD: expected a string",
            "vigie.yaml:7:7: workloads[0].env: invalid variable name \"BAD-NAME\" (expected "
            "letters, digits and \"_\", not starting with a digit)",
            "vigie.yaml:8:7: workloads[0].env.EMPTY: expected a string",
        });
  CHECK(errorOf(workloadWith("    env: [A=1]\n")) ==
        "vigie.yaml:4:10: workloads[0].env: expected a map");
}

TEST_CASE("cwd must be an absolute path") {
  CHECK(errorOf(workloadWith("    cwd: srv/web\n")) ==
        "vigie.yaml:4:10: workloads[0].cwd: \"srv/web\" is not an absolute path");
  CHECK(errorOf(workloadWith("    cwd: \"\"\n")) ==
        "vigie.yaml:4:10: workloads[0].cwd: \"\" is not an absolute path");
  CHECK(errorOf(workloadWith("    cwd: {a: 1}\n")) ==
        "vigie.yaml:4:10: workloads[0].cwd: expected a string");
}

TEST_CASE("restart policy, backoff and limit are checked") {
  CHECK(errorOf(R"(workloads:
  - name: a
    exec: [a]
  - name: b
    exec: [b]
    restart:
      policy: sometimes
)") == "vigie.yaml:7:15: workloads[1].restart.policy: unknown policy \"sometimes\" (expected "
       "always, on-failure or never)");
  CHECK(errorOf(workloadWith("    restart: always\n")) ==
        "vigie.yaml:4:14: workloads[0].restart: expected a map");
  CHECK(errorOf(workloadWith("    restart: {backoff: {initial: 5s, max: 1s}}\n")) ==
        "vigie.yaml:4:34: workloads[0].restart.backoff.initial: 5s is greater than max (1s)");
  CHECK(errorOf(workloadWith("    restart: {backoff: {max: 50ms}}\n")) ==
        "vigie.yaml:4:30: workloads[0].restart.backoff.max: 50ms is less than initial (100ms)");
  CHECK(errorOf(workloadWith("    restart: {backoff: {reset_after: -1s}}\n")) ==
        "vigie.yaml:4:38: workloads[0].restart.backoff.reset_after: invalid duration \"-1s\": "
        "must not be negative");
  CHECK(errorOf(workloadWith("    restart: {limit: {interval: 0s}}\n")) ==
        "vigie.yaml:4:33: workloads[0].restart.limit.interval: must be greater than 0 when burst "
        "is not 0");
  CHECK(errorOf(workloadWith("    restart: {limit: {burst: 5, interval: 0}}\n")) ==
        "vigie.yaml:4:43: workloads[0].restart.limit.interval: must be greater than 0 when burst "
        "is not 0");
  CHECK(errorOf(workloadWith("    restart: {limit: {burst: -1}}\n")) ==
        "vigie.yaml:4:30: workloads[0].restart.limit.burst: expected an integer between 0 and "
        "4294967295, got \"-1\"");
  CHECK(errorOf(workloadWith("    restart: {limit: {burst: 4294967296}}\n")) ==
        "vigie.yaml:4:30: workloads[0].restart.limit.burst: expected an integer between 0 and "
        "4294967295, got \"4294967296\"");
  CHECK(errorOf(workloadWith("    restart: {backoff: [1s]}\n")) ==
        "vigie.yaml:4:24: workloads[0].restart.backoff: expected a map");
}

TEST_CASE("an empty section keeps its defaults") {
  const AgentConfig config = configOf(workloadWith("    restart:\n    stop:\n    output:\n"));
  CHECK(config.workloads[0].restart.backoff.max == 30s);
  CHECK(config.workloads[0].stop.timeout == 10s);
  CHECK(config.workloads[0].output.tail == 64 * 1024);
}

TEST_CASE("success_exit_codes are integers from 0 to 255") {
  CHECK(errorsOf(workloadWith("    success_exit_codes: [0, 256, -1, x, 1.0, [2]]\n")) ==
        std::vector<std::string>{
            "vigie.yaml:4:29: workloads[0].success_exit_codes[1]: expected an integer between 0 "
            "and 255, got \"256\"",
            "vigie.yaml:4:34: workloads[0].success_exit_codes[2]: expected an integer between 0 "
            "and 255, got \"-1\"",
            "vigie.yaml:4:38: workloads[0].success_exit_codes[3]: expected an integer between 0 "
            "and 255, got \"x\"",
            "vigie.yaml:4:41: workloads[0].success_exit_codes[4]: expected an integer between 0 "
            "and 255, got \"1.0\"",
            "vigie.yaml:4:46: workloads[0].success_exit_codes[5]: expected an integer between 0 "
            "and 255",
        });
  CHECK(errorOf(workloadWith("    success_exit_codes: 0\n")) ==
        "vigie.yaml:4:25: workloads[0].success_exit_codes: expected a list");
}

TEST_CASE("stop signal and timeout are checked") {
  CHECK(errorsOf(workloadWith("    stop:\n      signal: SIGFOO\n      timeout: 10\n")) ==
        std::vector<std::string>{
            "vigie.yaml:5:15: workloads[0].stop.signal: invalid signal \"SIGFOO\": expected a "
            "name such as SIGTERM, TERM or SIGRTMIN+1, or a number between 1 and 64",
            "vigie.yaml:6:16: workloads[0].stop.timeout: invalid duration \"10\": expected a "
            "number followed by ns, us, ms, s, m or h",
        });
  CHECK(errorOf(workloadWith("    stop: {signal: 65}\n")) ==
        "vigie.yaml:4:20: workloads[0].stop.signal: invalid signal \"65\": expected a name such "
        "as SIGTERM, TERM or SIGRTMIN+1, or a number between 1 and 64");
  CHECK(errorOf(workloadWith("    stop: {timeout: [1s]}\n")) ==
        "vigie.yaml:4:21: workloads[0].stop.timeout: expected a duration such as 250ms or 10s");
  CHECK(errorOf(workloadWith("    stop: {timeout: 10x}\n")) ==
        "vigie.yaml:4:21: workloads[0].stop.timeout: invalid duration \"10x\": expected a number "
        "followed by ns, us, ms, s, m or h");
  const AgentConfig config = configOf(workloadWith("    stop: {signal: RTMIN+2, timeout: 0}\n"));
  CHECK(config.workloads[0].stop.signal == SIGRTMIN + 2);
  CHECK(config.workloads[0].stop.timeout == Duration::zero());
}

TEST_CASE("output tail must be a size between 1KiB and 64MiB") {
  CHECK(errorOf(workloadWith("    output: {tail: 1023}\n")) ==
        "vigie.yaml:4:20: workloads[0].output.tail: 1023 is out of range (expected between 1KiB "
        "and 64MiB)");
  CHECK(errorOf(workloadWith("    output: {tail: 65MiB}\n")) ==
        "vigie.yaml:4:20: workloads[0].output.tail: 65MiB is out of range (expected between "
        "1KiB and 64MiB)");
  CHECK(errorOf(workloadWith("    output: {tail: lots}\n")) ==
        "vigie.yaml:4:20: workloads[0].output.tail: invalid size \"lots\": expected a whole "
        "number of bytes, optionally followed by B, KiB, MiB, GiB, kB, MB or GB");
  CHECK(configOf(workloadWith("    output: {tail: 2MB}\n")).workloads[0].output.tail == 2'000'000);
}

TEST_CASE("history is an integer from 1 to 1000") {
  CHECK(errorOf(workloadWith("    history: 0\n")) ==
        "vigie.yaml:4:14: workloads[0].history: expected an integer between 1 and 1000, got "
        "\"0\"");
  CHECK(errorOf(workloadWith("    history: 1001\n")) ==
        "vigie.yaml:4:14: workloads[0].history: expected an integer between 1 and 1000, got "
        "\"1001\"");
  CHECK(errorOf(workloadWith("    history: five\n")) ==
        "vigie.yaml:4:14: workloads[0].history: expected an integer between 1 and 1000, got "
        "\"five\"");
}

TEST_CASE("unknown keys are reported, with a suggestion for near misses") {
  CHECK(errorOf(R"(workloads:
  - name: web
    exce: [/bin/web]
    exec: [/bin/web]
)") == "vigie.yaml:3:5: unknown key \"exce\" in workload \"web\" (did you mean \"exec\"?)");
  CHECK(errorOf(workloadWith("    colour: blue\n")) ==
        "vigie.yaml:4:5: unknown key \"colour\" in workload \"web\"");
  CHECK(errorOf(workloadWith("    restart: {polcy: never}\n")) ==
        "vigie.yaml:4:15: unknown key \"polcy\" in workloads[0].restart (did you mean "
        "\"policy\"?)");
  CHECK(errorOf(workloadWith("    stop: {timout: 1s}\n")) ==
        "vigie.yaml:4:12: unknown key \"timout\" in workloads[0].stop (did you mean "
        "\"timeout\"?)");
  CHECK(errorOf(workloadWith("    restart: {backoff: {inital: 1s}}\n")) ==
        "vigie.yaml:4:25: unknown key \"inital\" in workloads[0].restart.backoff (did you mean "
        "\"initial\"?)");
  CHECK(errorOf("workload: []\n") ==
        "vigie.yaml:1:1: unknown key \"workload\" at top level (did you mean \"workloads\"?)");
  CHECK(errorOf("workloads: []\nversion: 2\n") ==
        "vigie.yaml:2:1: unknown key \"version\" at top level");
  // Without a valid name, the entry is named by its index.
  CHECK(errorsOf("workloads:\n  - {exec: [a], Name: a}\n") ==
        std::vector<std::string>{
            "vigie.yaml:2:5: missing required key \"name\"",
            "vigie.yaml:2:17: unknown key \"Name\" in workloads[0] (did you mean \"name\"?)",
        });
}

TEST_CASE("duplicate keys are reported at every level") {
  SUBCASE("top level") {
    CHECK(errorOf("workloads: []\nworkloads: []\n") ==
          "vigie.yaml:2:1: duplicate key \"workloads\" (first at line 1)");
  }
  SUBCASE("in a workload") {
    CHECK(errorOf(R"(workloads:
  - exec: [a]
    name: web
    name: api
)") == "vigie.yaml:4:5: duplicate key \"name\" (first at line 3)");
  }
  SUBCASE("in a nested map") {
    CHECK(
        errorOf(workloadWith("    restart:\n      backoff:\n        max: 1s\n        max: 2s\n")) ==
        "vigie.yaml:7:9: duplicate key \"max\" (first at line 6)");
  }
  SUBCASE("in env") {
    CHECK(errorOf(workloadWith("    env: {A: 1, B: 2, A: 3}\n")) ==
          "vigie.yaml:4:23: duplicate key \"A\" (first at line 4)");
  }
  SUBCASE("the first value is kept") {
    // Loading with an error still fills what it can; the first of two keys is what counts.
    ConfigLoadResult result =
        loadConfigString(workloadWith("    history: 7\n    history: 9\n"), kConfigFile);
    REQUIRE(result.errors.size() == 1);
    CHECK(result.config.workloads[0].history == 7);
  }
}

TEST_CASE("workload names are unique across the file") {
  CHECK(errorsOf(R"(workloads:
  - name: web
    exec: [a]
  - name: api
    exec: [b]
  - exec: [c]
    name: web
  - {name: api, exec: [d]}
)") == std::vector<std::string>{
           "vigie.yaml:7:11: duplicate workload name \"web\" (first defined at line 2)",
           "vigie.yaml:8:12: duplicate workload name \"api\" (first defined at line 4)",
       });
}

TEST_CASE("wrong node types are reported") {
  CHECK(errorOf("- a\n- b\n") ==
        "vigie.yaml:1:1: expected a map at top level (with a \"workloads\" list)");
  CHECK(errorOf("just text\n") ==
        "vigie.yaml:1:1: expected a map at top level (with a \"workloads\" list)");
  CHECK(errorOf("workloads: {web: {}}\n") == "vigie.yaml:1:12: workloads: expected a list");
  CHECK(errorOf("workloads:\n  - web\n") == "vigie.yaml:2:5: workloads[0]: expected a map");
  CHECK(errorOf("workloads:\n  - [a, b]\n") == "vigie.yaml:2:5: workloads[0]: expected a map");
  CHECK(errorOf("? [a, b]\n: c\n") == "vigie.yaml:1:3: expected a string as key");
}

TEST_CASE("every error is collected, in file order") {
  CHECK(errorsOf(R"(workloads:
  - name: web
    exec: [/bin/web]
    cwd: relative
    restart:
      policy: sometimes
      backoff: {initial: 1x}
    stop: {signal: NOPE}
    histroy: 3
  - name: web
  - name: bad name
    exec: []
    env: {A: 1, A: 2}
)") == std::vector<std::string>{
           "vigie.yaml:4:10: workloads[0].cwd: \"relative\" is not an absolute path",
           "vigie.yaml:6:15: workloads[0].restart.policy: unknown policy \"sometimes\" "
           "(expected always, on-failure or never)",
           "vigie.yaml:7:26: workloads[0].restart.backoff.initial: invalid duration \"1x\": "
           "expected a number followed by ns, us, ms, s, m or h",
           "vigie.yaml:8:20: workloads[0].stop.signal: invalid signal \"NOPE\": expected a "
           "name such as SIGTERM, TERM or SIGRTMIN+1, or a number between 1 and 64",
           "vigie.yaml:9:5: unknown key \"histroy\" in workload \"web\" (did you mean "
           "\"history\"?)",
           "vigie.yaml:10:5: missing required key \"exec\"",
           "vigie.yaml:10:11: duplicate workload name \"web\" (first defined at line 2)",
           "vigie.yaml:11:11: workloads[2].name: invalid name \"bad name\" (use only letters, "
           "digits, \"_\", \".\" and \"-\")",
           "vigie.yaml:12:11: workloads[2].exec: must not be empty (expected the program and "
           "its arguments)",
           "vigie.yaml:13:17: duplicate key \"A\" (first at line 13)",
       });
}

TEST_CASE("a YAML syntax error becomes one error at its position") {
  CHECK(errorOf("workloads: [a\n") ==
        "vigie.yaml:2:1: invalid YAML: end of sequence flow not found");
  CHECK(errorOf("workloads:\n  - name: a: b\n") ==
        "vigie.yaml:2:12: invalid YAML: illegal map value");
}

TEST_CASE("input yaml-cpp silently gives up on is an error, not an empty config") {
  // yaml-cpp 0.7 parses these as an endless run of empty documents.
  CHECK(errorOf(",\n") == "vigie.yaml:1:1: invalid YAML: unexpected \",\"");
  CHECK(errorOf("\n  ,|133{a\n") == "vigie.yaml:2:3: invalid YAML: unexpected \",\"");
}

TEST_CASE("deeply nested YAML is an error, not a crash") {
  const std::string deep = "workloads: " + std::string(5000, '[') + std::string(5000, ']');
  const std::vector<std::string> errors = errorsOf(deep);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].starts_with("vigie.yaml:1:"));
  CHECK(errors[0].ends_with(": invalid YAML: nested too deeply"));
}

TEST_CASE("only one YAML document is allowed") {
  CHECK(errorOf("workloads: []\n---\nworkloads: []\n") ==
        "vigie.yaml:2:1: expected a single YAML document (remove the extra \"---\")");
}

TEST_CASE("config: the process keys default to the agent's own settings") {
  const AgentConfig config = configOf(workloadWith(""));
  const WorkloadSpec& web = config.workloads[0];
  CHECK(web.user.empty());
  CHECK(web.group.empty());
  CHECK(web.umask == 022);
  CHECK(web.rlimits.empty());
  CHECK_FALSE(web.oom_score_adj.has_value());
  CHECK(web.output.file.enabled);
  CHECK(web.output.file.max_size == 10 * 1024 * 1024);
  CHECK(web.output.file.max_files == 3);
  CHECK_FALSE(web.output.journal);
  CHECK(config.storage.max_use == uint64_t{1} << 30);
  CHECK(config.storage.keep_free == uint64_t{512} << 20);
  CHECK(config.included_files.empty());
}

TEST_CASE("config: user and group must exist") {
  const AgentConfig config = configOf(workloadWith("    user: nobody\n    group: nogroup\n"));
  CHECK(config.workloads[0].user == "nobody");
  CHECK(config.workloads[0].group == "nogroup");
  // A group alone is allowed: the agent's user with another primary group.
  CHECK(configOf(workloadWith("    group: nogroup\n")).workloads[0].group == "nogroup");

  CHECK(errorOf(workloadWith("    user: vigie-ghost-user\n")) ==
        "vigie.yaml:4:11: workloads[0].user: unknown user \"vigie-ghost-user\"");
  CHECK(errorOf(workloadWith("    group: vigie-ghost-group\n")) ==
        "vigie.yaml:4:12: workloads[0].group: unknown group \"vigie-ghost-group\"");
  CHECK(errorOf(workloadWith("    user: \"\"\n")) ==
        "vigie.yaml:4:11: workloads[0].user: must not be empty");
  CHECK(errorOf(workloadWith("    group: [nogroup]\n")) ==
        "vigie.yaml:4:12: workloads[0].group: expected a string");
  CHECK(errorOf(workloadWith("    user:\n")) ==
        "vigie.yaml:4:5: workloads[0].user: expected a string");
}

TEST_CASE("config: umask is an octal number up to 0777") {
  auto umaskOf = [](const std::string& value) {
    return configOf(workloadWith("    umask: " + value + "\n")).workloads[0].umask;
  };
  CHECK(umaskOf("0027") == 027);
  CHECK(umaskOf("027") == 027);
  CHECK(umaskOf("\"0077\"") == 077);
  CHECK(umaskOf("22") == 022);
  CHECK(umaskOf("0") == 0);
  CHECK(umaskOf("0777") == 0777);
  CHECK(umaskOf("00007") == 07);

  CHECK(errorOf(workloadWith("    umask: 0028\n")) ==
        "vigie.yaml:4:12: workloads[0].umask: invalid umask \"0028\": expected an octal number "
        "from 0000 to 0777, such as 0027");
  CHECK(errorOf(workloadWith("    umask: 1000\n")) ==
        "vigie.yaml:4:12: workloads[0].umask: invalid umask \"1000\": expected an octal number "
        "from 0000 to 0777, such as 0027");
  CHECK(errorOf(workloadWith("    umask: 0o27\n")) ==
        "vigie.yaml:4:12: workloads[0].umask: invalid umask \"0o27\": expected an octal number "
        "from 0000 to 0777, such as 0027");
  CHECK(errorOf(workloadWith("    umask: -022\n")) ==
        "vigie.yaml:4:12: workloads[0].umask: invalid umask \"-022\": expected an octal number "
        "from 0000 to 0777, such as 0027");
  CHECK(errorOf(workloadWith("    umask: \"\"\n")) ==
        "vigie.yaml:4:12: workloads[0].umask: invalid umask \"\": expected an octal number from "
        "0000 to 0777, such as 0027");
  CHECK(errorOf(workloadWith("    umask: [0022]\n")) ==
        "vigie.yaml:4:12: workloads[0].umask: expected an octal umask such as 0027");
}

TEST_CASE("config: rlimits map limit names to a value or to soft and hard") {
  const AgentConfig config = configOf(workloadWith(R"(    rlimits:
      nofile: 4096
      core: unlimited
      stack: {soft: 8MiB, hard: unlimited}
      cpu: {soft: 10, hard: 20}
      as: 1GiB
      memlock: 65536
      nice: {soft: 0, hard: 0}
)"));
  const std::vector<RlimitSpec>& limits = config.workloads[0].rlimits;
  REQUIRE(limits.size() == 7);
  CHECK(limits[0].resource == RLIMIT_NOFILE);
  CHECK(limits[0].soft == 4096);
  CHECK(limits[0].hard == 4096);
  CHECK(limits[0].location.file == kConfigFile);
  CHECK(limits[0].location.line == 5);
  CHECK(limits[0].location.column == 7);
  CHECK(limits[1].resource == RLIMIT_CORE);
  CHECK(limits[1].soft == RLIM_INFINITY);
  CHECK(limits[1].hard == RLIM_INFINITY);
  CHECK(limits[2].resource == RLIMIT_STACK);
  CHECK(limits[2].soft == 8 * 1024 * 1024);
  CHECK(limits[2].hard == RLIM_INFINITY);
  CHECK(limits[2].location.line == 7);
  CHECK(limits[3].resource == RLIMIT_CPU);
  CHECK(limits[3].soft == 10);
  CHECK(limits[3].hard == 20);
  CHECK(limits[4].resource == RLIMIT_AS);
  CHECK(limits[4].soft == uint64_t{1} << 30);
  CHECK(limits[5].resource == RLIMIT_MEMLOCK);
  CHECK(limits[5].hard == 65536);
  CHECK(limits[6].resource == RLIMIT_NICE);

  // Every name, in file order.
  const std::vector<std::pair<std::string, int>> names{
      {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
      {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},
      {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
      {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},
      {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
      {"stack", RLIMIT_STACK},
  };
  std::string all = "    rlimits:\n";
  for (const auto& [name, resource] : names) {
    all += "      " + name + ": 7\n";
  }
  const AgentConfig every = configOf(workloadWith(all));
  REQUIRE(every.workloads[0].rlimits.size() == names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    CAPTURE(names[i].first);
    CHECK(every.workloads[0].rlimits[i].resource == names[i].second);
    CHECK(every.workloads[0].rlimits[i].soft == 7);
  }
  CHECK(configOf(workloadWith("    rlimits:\n")).workloads[0].rlimits.empty());
  CHECK(configOf(workloadWith("    rlimits: {}\n")).workloads[0].rlimits.empty());
}

TEST_CASE("config: rlimits errors") {
  CHECK(errorOf(workloadWith("    rlimits:\n      nofiles: 1024\n")) ==
        "vigie.yaml:5:7: unknown limit \"nofiles\" in workloads[0].rlimits (did you mean "
        "\"nofile\"?)");
  CHECK(errorOf(workloadWith("    rlimits:\n      NOFILE: 1024\n")) ==
        "vigie.yaml:5:7: unknown limit \"NOFILE\" in workloads[0].rlimits (expected one of as, "
        "core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, "
        "rttime, sigpending, stack)");
  CHECK(errorOf(workloadWith("    rlimits:\n      nofile: {soft: 2048, hard: 1024}\n")) ==
        "vigie.yaml:5:22: workloads[0].rlimits.nofile.soft: 2048 is greater than hard (1024)");
  CHECK(errorOf(workloadWith("    rlimits:\n      core: {soft: unlimited, hard: 1MiB}\n")) ==
        "vigie.yaml:5:20: workloads[0].rlimits.core.soft: unlimited is greater than hard (1MiB)");
  CHECK(errorOf(workloadWith("    rlimits:\n      nofile: 4KiB\n")) ==
        "vigie.yaml:5:15: workloads[0].rlimits.nofile: expected a whole number or unlimited, got "
        "\"4KiB\"");
  CHECK(errorOf(workloadWith("    rlimits:\n      nproc: -1\n")) ==
        "vigie.yaml:5:14: workloads[0].rlimits.nproc: expected a whole number or unlimited, got "
        "\"-1\"");
  CHECK(errorOf(workloadWith("    rlimits:\n      cpu: 18446744073709551616\n")) ==
        "vigie.yaml:5:12: workloads[0].rlimits.cpu: expected a whole number or unlimited, got "
        "\"18446744073709551616\"");
  CHECK(errorOf(workloadWith("    rlimits:\n      core: lots\n")) ==
        "vigie.yaml:5:13: workloads[0].rlimits.core: expected a size such as 64MiB or unlimited, "
        "got \"lots\"");
  CHECK(errorOf(workloadWith("    rlimits:\n      stack: [1]\n")) ==
        "vigie.yaml:5:14: workloads[0].rlimits.stack: expected a size such as 64MiB or unlimited");
  CHECK(errorOf(workloadWith("    rlimits:\n      nofile:\n")) ==
        "vigie.yaml:5:7: workloads[0].rlimits.nofile: expected a whole number or unlimited");
  CHECK(errorOf(workloadWith("    rlimits:\n      nofile: {soft: 1}\n")) ==
        "vigie.yaml:5:15: workloads[0].rlimits.nofile: missing required key \"hard\"");
  CHECK(errorsOf(workloadWith("    rlimits:\n      nofile: {}\n")) ==
        std::vector<std::string>{
            "vigie.yaml:5:15: workloads[0].rlimits.nofile: missing required key \"soft\"",
            "vigie.yaml:5:15: workloads[0].rlimits.nofile: missing required key \"hard\"",
        });
  CHECK(errorOf(workloadWith("    rlimits:\n      nofile: {soft: 1, hard: 2, hrad: 3}\n")) ==
        "vigie.yaml:5:34: unknown key \"hrad\" in workloads[0].rlimits.nofile (did you mean "
        "\"hard\"?)");
  CHECK(errorOf(workloadWith("    rlimits:\n      nofile: {soft: x, hard: 2}\n")) ==
        "vigie.yaml:5:22: workloads[0].rlimits.nofile.soft: expected a whole number or "
        "unlimited, got \"x\"");
  CHECK(errorOf(workloadWith("    rlimits:\n      nofile: 1\n      nofile: 2\n")) ==
        "vigie.yaml:6:7: duplicate key \"nofile\" (first at line 5)");
  CHECK(errorOf(workloadWith("    rlimits: [nofile=1]\n")) ==
        "vigie.yaml:4:14: workloads[0].rlimits: expected a map");
  // Only valid limits are kept.
  ConfigLoadResult partial =
      loadConfigString(workloadWith("    rlimits: {core: 0, nofile: x, nproc: 9}\n"), kConfigFile);
  REQUIRE(partial.errors.size() == 1);
  REQUIRE(partial.config.workloads[0].rlimits.size() == 2);
  CHECK(partial.config.workloads[0].rlimits[1].resource == RLIMIT_NPROC);
}

TEST_CASE("config: oom_score_adj is an integer from -1000 to 1000") {
  CHECK(configOf(workloadWith("    oom_score_adj: -1000\n")).workloads[0].oom_score_adj == -1000);
  CHECK(configOf(workloadWith("    oom_score_adj: 1000\n")).workloads[0].oom_score_adj == 1000);
  CHECK(configOf(workloadWith("    oom_score_adj: 0\n")).workloads[0].oom_score_adj == 0);
  CHECK(errorOf(workloadWith("    oom_score_adj: 1001\n")) ==
        "vigie.yaml:4:20: workloads[0].oom_score_adj: expected an integer between -1000 and "
        "1000, got \"1001\"");
  CHECK(errorOf(workloadWith("    oom_score_adj: -1001\n")) ==
        "vigie.yaml:4:20: workloads[0].oom_score_adj: expected an integer between -1000 and "
        "1000, got \"-1001\"");
  CHECK(errorOf(workloadWith("    oom_score_adj: low\n")) ==
        "vigie.yaml:4:20: workloads[0].oom_score_adj: expected an integer between -1000 and "
        "1000, got \"low\"");
}

TEST_CASE("config: output file and journal") {
  auto outputOf = [](const std::string& value) {
    return configOf(workloadWith("    output: " + value + "\n")).workloads[0].output;
  };
  CHECK_FALSE(outputOf("{file: false}").file.enabled);
  CHECK(outputOf("{file: false}").file.max_size == 10 * 1024 * 1024);
  CHECK(outputOf("{file: true}").file == OutputFileSpec{});
  CHECK(outputOf("{file: }").file == OutputFileSpec{});
  CHECK(outputOf("{file: {}}").file == OutputFileSpec{});
  const OutputSpec custom =
      outputOf("{tail: 4KiB, file: {max_size: 1MiB, max_files: 10}, journal: true}");
  CHECK(custom.tail == 4096);
  CHECK(custom.file.enabled);
  CHECK(custom.file.max_size == 1024 * 1024);
  CHECK(custom.file.max_files == 10);
  CHECK(custom.journal);
  CHECK(outputOf("{file: {max_size: 4KiB, max_files: 1}}").file == OutputFileSpec{true, 4096, 1});
  CHECK(outputOf("{file: {max_files: 100}}").file.max_files == 100);
  CHECK_FALSE(outputOf("{journal: false}").journal);
  CHECK(outputOf("{journal: True}").journal);

  CHECK(errorOf(workloadWith("    output: {file: {max_size: 4095}}\n")) ==
        "vigie.yaml:4:31: workloads[0].output.file.max_size: 4095 is too small (expected at "
        "least 4KiB)");
  CHECK(errorOf(workloadWith("    output: {file: {max_size: 1x}}\n")) ==
        "vigie.yaml:4:31: workloads[0].output.file.max_size: invalid size \"1x\": expected a "
        "whole number of bytes, optionally followed by B, KiB, MiB, GiB, kB, MB or GB");
  CHECK(errorOf(workloadWith("    output: {file: {max_files: 0}}\n")) ==
        "vigie.yaml:4:32: workloads[0].output.file.max_files: expected an integer between 1 and "
        "100, got \"0\"");
  CHECK(errorOf(workloadWith("    output: {file: {max_files: 101}}\n")) ==
        "vigie.yaml:4:32: workloads[0].output.file.max_files: expected an integer between 1 and "
        "100, got \"101\"");
  CHECK(errorOf(workloadWith("    output: {file: yes}\n")) ==
        "vigie.yaml:4:20: workloads[0].output.file: expected true, false or a map with max_size "
        "and max_files, got \"yes\"");
  CHECK(errorOf(workloadWith("    output: {file: [a]}\n")) ==
        "vigie.yaml:4:20: workloads[0].output.file: expected true, false or a map with max_size "
        "and max_files");
  CHECK(errorOf(workloadWith("    output: {file: {max_file: 2}}\n")) ==
        "vigie.yaml:4:21: unknown key \"max_file\" in workloads[0].output.file (did you mean "
        "\"max_files\"?)");
  CHECK(errorOf(workloadWith("    output: {file: {max_files: 2, max_files: 3}}\n")) ==
        "vigie.yaml:4:35: duplicate key \"max_files\" (first at line 4)");
  CHECK(errorOf(workloadWith("    output: {journal: yes}\n")) ==
        "vigie.yaml:4:23: workloads[0].output.journal: expected true or false, got \"yes\"");
  CHECK(errorOf(workloadWith("    output: {journal: {}}\n")) ==
        "vigie.yaml:4:23: workloads[0].output.journal: expected true or false");
  CHECK(errorOf(workloadWith("    output: {jornal: true}\n")) ==
        "vigie.yaml:4:14: unknown key \"jornal\" in workloads[0].output (did you mean "
        "\"journal\"?)");
  // A bad tail no longer hides errors in the keys after it.
  CHECK(errorsOf(workloadWith("    output: {tail: 1, journal: 2}\n")) ==
        std::vector<std::string>{
            "vigie.yaml:4:20: workloads[0].output.tail: 1 is out of range (expected between "
            "1KiB and 64MiB)",
            "vigie.yaml:4:32: workloads[0].output.journal: expected true or false, got \"2\"",
        });
}

TEST_CASE("config: storage sets the state dir budget") {
  const AgentConfig config = configOf("storage:\n  max_use: 2GiB\n  keep_free: 1GB\n");
  CHECK(config.storage.max_use == uint64_t{2} << 30);
  CHECK(config.storage.keep_free == 1'000'000'000);
  const AgentConfig partial = configOf("storage: {keep_free: 0}\nworkloads: []\n");
  CHECK(partial.storage.max_use == uint64_t{1} << 30);
  CHECK(partial.storage.keep_free == 0);
  CHECK(configOf("storage:\n").storage.max_use == uint64_t{1} << 30);

  CHECK(errorOf("storage: {max_use: lots}\n") ==
        "vigie.yaml:1:20: storage.max_use: invalid size \"lots\": expected a whole number of "
        "bytes, optionally followed by B, KiB, MiB, GiB, kB, MB or GB");
  CHECK(errorOf("storage: {keep_free: [1]}\n") ==
        "vigie.yaml:1:22: storage.keep_free: expected a size such as 64KiB");
  CHECK(errorOf("storage: 1GiB\n") == "vigie.yaml:1:10: storage: expected a map");
  CHECK(errorOf("storage:\n  keep_fre: 1GiB\n") ==
        "vigie.yaml:2:3: unknown key \"keep_fre\" in storage (did you mean \"keep_free\"?)");
  CHECK(errorOf("storage: {max_use: 1GiB}\nstorage: {max_use: 2GiB}\n") ==
        "vigie.yaml:2:1: duplicate key \"storage\" (first at line 1)");
}

TEST_CASE("config: the new keys are suggested for near misses") {
  CHECK(errorOf(workloadWith("    usr: nobody\n")) ==
        "vigie.yaml:4:5: unknown key \"usr\" in workload \"web\" (did you mean \"user\"?)");
  CHECK(errorOf(workloadWith("    gruop: nogroup\n")) ==
        "vigie.yaml:4:5: unknown key \"gruop\" in workload \"web\" (did you mean \"group\"?)");
  CHECK(errorOf(workloadWith("    umaks: \"022\"\n")) ==
        "vigie.yaml:4:5: unknown key \"umaks\" in workload \"web\" (did you mean \"umask\"?)");
  CHECK(errorOf(workloadWith("    rlimit: {}\n")) ==
        "vigie.yaml:4:5: unknown key \"rlimit\" in workload \"web\" (did you mean \"rlimits\"?)");
  CHECK(errorOf(workloadWith("    oom_score_ajd: 1\n")) ==
        "vigie.yaml:4:5: unknown key \"oom_score_ajd\" in workload \"web\" (did you mean "
        "\"oom_score_adj\"?)");
  CHECK(errorOf("includes: []\n") ==
        "vigie.yaml:1:1: unknown key \"includes\" at top level (did you mean \"include\"?)");
  CHECK(errorOf("storge: {}\n") ==
        "vigie.yaml:1:1: unknown key \"storge\" at top level (did you mean \"storage\"?)");
}

// A scratch directory removed at the end of the test.
class TempDir : public testing::TempDir {
 public:
  TempDir() : testing::TempDir("vigie-config-test") {}
};

TEST_CASE("loadConfigFile reads a file and names it in errors") {
  TempDir dir;
  const std::string good = dir.write("good.yaml", "workloads:\n  - {name: a, exec: [a]}\n");
  ConfigLoadResult loaded = loadConfigFile(good);
  REQUIRE(loaded.ok());
  CHECK(loaded.config.path == good);
  REQUIRE(loaded.config.workloads.size() == 1);
  CHECK(loaded.config.workloads[0].location.file == good);

  const std::string bad = dir.write("bad.yaml", "workloads:\n  - {name: a}\n");
  ConfigLoadResult failed = loadConfigFile(bad);
  REQUIRE(failed.errors.size() == 1);
  CHECK(failed.errors[0].format() == bad + ":2:5: missing required key \"exec\"");
}

TEST_CASE("an unreadable file becomes one error without a position") {
  TempDir dir;
  const std::string good = dir.write("good.yaml", "workloads: []\n");
  ConfigLoadResult missing = loadConfigFile(dir.path() + "/missing.yaml");
  REQUIRE(missing.errors.size() == 1);
  CHECK(missing.errors[0].location.line == 0);
  CHECK(missing.errors[0].location.column == 0);
  CHECK(missing.errors[0].format() == dir.path() + "/missing.yaml: No such file or directory");

  ConfigLoadResult directory = loadConfigFile(dir.path());
  REQUIRE(directory.errors.size() == 1);
  CHECK(directory.errors[0].format() == dir.path() + ": Is a directory");

  ConfigLoadResult not_dir = loadConfigFile(good + "/vigie.yaml");
  REQUIRE(not_dir.errors.size() == 1);
  CHECK(not_dir.errors[0].format() == good + "/vigie.yaml: Not a directory");
  CHECK(not_dir.config.workloads.empty());

  // Root reads any file whatever its mode, so only check permissions as another user.
  if (::geteuid() != 0) {
    const std::string secret = dir.write("secret.yaml", "workloads: []\n", 0);
    ConfigLoadResult denied = loadConfigFile(secret);
    REQUIRE(denied.errors.size() == 1);
    CHECK(denied.errors[0].format() == secret + ": Permission denied");
  }
}

}  // namespace
}  // namespace vigie
