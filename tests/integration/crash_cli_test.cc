// vigiectl's crash commands end to end: the real vigiectl against a real vigied that captured
// real crashes. Human output, -o json parsed back with protobuf, exit codes, id prefixes, the
// core written raw and compressed, `crash gdb` with gdb in batch mode, and a read-role client.
//
// In incident_integration_tests: vigied installs its core_pattern (see crash_lab.h).
#include <doctest/doctest.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <regex>
#include <string>

#include "tests/integration/crash_lab.h"

namespace vigie::testing {
namespace {

template <class Message>
Message parseJson(const std::string& text) {
  Message message;
  const auto status = google::protobuf::util::JsonStringToMessage(text, &message);
  REQUIRE_MESSAGE(status.ok(), status.ToString() << "\n" << text);
  return message;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// `pattern` (an ECMAScript regex) somewhere in `text`: table columns are as wide as their
// widest cell, which other crashes on the host (node-level records) can change.
bool matches(const std::string& text, const std::string& pattern) {
  return std::regex_search(text, std::regex(pattern));
}

TEST_CASE("crash cli: list, show, bt, core and gdb on a real crash, with their errors") {
  TempDir dir;
  TestCertificates certificates(dir);
  const int port = freeTcpPort();
  CrashAgent agent(dir,
                   triggeredUnit(dir, "seg", "segv_deep") +
                       "  - name: three\n"
                       "    exec: [" +
                       crasherPath("exit3") +
                       "]\n"
                       "    restart: {policy: never}\n",
                   certificates.apiSection(port));
  triggerUnit(dir, "seg");
  const v1::CrashSummary crash = agent.waitSettled("seg");
  const v1::CrashSummary exited = agent.waitSettled("three");
  INFO(agent.log());
  const std::string id = crash.id();
  const std::string prefix = id.substr(0, id.size() - 3);
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--socket", agent.socket()});
    return runVigiectl(dir, args);
  };

  {  // crash list: one line per incident, newest first; and its JSON
    const CliRun list = cli({"crash", "list"});
    INFO(list);
    REQUIRE(list.exit_code == 0);
    CHECK(matches(list.out, "^ID +TIME +UNIT +REASON +SIGNAL +STATUS +CORE +FINGERPRINT +COUNT\n"));
    CHECK(matches(list.out, id +
                                " +[-0-9]+ [:0-9]+ +seg +core-dumped +SIGSEGV +complete +[0-9.]+ "
                                "[KM]iB +" +
                                crash.fingerprint().substr(0, 8) + " +1\n"));
    CHECK(
        matches(list.out, exited.id() + " .* three +exited +exit 3 +no-core +- +[0-9a-f]{8} +1\n"));
    // Newest first (other crashes on the host may be listed too, as node-level records).
    CHECK(list.out.find(std::max(id, exited.id())) < list.out.find(std::min(id, exited.id())));
    const auto json = parseJson<v1::ListCrashesResponse>(cli({"crash", "list", "-o", "json"}).out);
    CHECK(json.crashes_size() >= 2);
    const CliRun filtered = cli({"crash", "list", "--unit", "seg", "--since", "1h", "-o", "json"});
    INFO(filtered);
    const auto only_seg = parseJson<v1::ListCrashesResponse>(filtered.out);
    REQUIRE(only_seg.crashes_size() == 1);
    CHECK(only_seg.crashes(0).id() == id);
    const CliRun later = cli({"crash", "list", "--since", "2200-01-01"});
    CHECK(later.exit_code == 0);
    CHECK(later.out == "No crash incident matches these filters.\n");
    const CliRun bad_since = cli({"crash", "list", "--since", "yesterday"});
    CHECK(bad_since.exit_code == 2);
    CHECK(contains(bad_since.err, "--since: \"yesterday\" is neither"));
    const CliRun bad_reason = cli({"crash", "list", "--reason", "segfault"});
    CHECK(bad_reason.exit_code == 2);
    CHECK(contains(bad_reason.err, "unknown reason \"segfault\""));
  }

  {  // crash show by a unique prefix: what crashed, where, and the core
    const CliRun show = cli({"crash", "show", prefix});
    INFO(show);
    REQUIRE(show.exit_code == 0);
    CHECK(contains(show.out, "Crash:        " + id + "\n"));
    CHECK(contains(show.out, "Status:       complete\n"));
    CHECK(contains(show.out, "Unit:         seg, instance 1"));
    CHECK(
        contains(show.out, "Reason:       core-dumped: SIGSEGV, address not mapped (SEGV_MAPERR)"));
    CHECK(contains(show.out, "Crashed in:   level3\n"));
    CHECK(contains(show.out, "`vigiectl crash gdb " + id + "` opens it in gdb"));
    CHECK(contains(show.out, "* thread "));
    const auto json = parseJson<v1::GetCrashResponse>(cli({"crash", "show", id, "-o", "json"}).out);
    CHECK(json.incident().id() == id);
    CHECK(json.summary().crashing_function() == "level3");
  }

  {  // crash bt: every thread, the crashing one first and marked
    const CliRun bt = cli({"crash", "bt", prefix});
    INFO(bt);
    REQUIRE(bt.exit_code == 0);
    CHECK(contains(bt.out, "Crash " + id + ": seg, SIGSEGV in " + crasherPath("segv_deep")));
    CHECK(contains(bt.out, "\n* thread "));
    CHECK(contains(bt.out, " (crashed)\n    #0 "));
    CHECK(matches(bt.out,
                  "#0 +0x[0-9a-f]{16} +level3 +at [^ ]*segv_deep\\.c:[0-9]+ +in segv_deep\n"));
    CHECK(matches(bt.out, "#1 +0x[0-9a-f]{16} +level2 +at "));
    const auto json = parseJson<v1::Backtrace>(cli({"crash", "bt", id, "-o", "json"}).out);
    REQUIRE(json.threads_size() >= 1);
    CHECK(json.threads(0).crashed());
  }

  {  // crash core: raw by default (an ELF core), --compressed is the zstd frame
    const std::string raw_path = dir.file("raw.core");
    const CliRun raw = cli({"crash", "core", id, "--output-file", raw_path});
    INFO(raw);
    REQUIRE(raw.exit_code == 0);
    CHECK(contains(raw.out, "wrote the raw core of " + id + " to " + raw_path));
    const std::string core = readFile(raw_path);
    REQUIRE(core.size() == crash.core_raw_bytes());
    CHECK(core.compare(0, 4,
                       "\x7f"
                       "ELF") == 0);
    CHECK(core[16] == 4);  // ET_CORE
    const std::string zst_path = dir.file("core.zst");
    const CliRun zst =
        cli({"crash", "core", prefix, "--compressed", "--output-file", zst_path, "-o", "json"});
    INFO(zst);
    REQUIRE(zst.exit_code == 0);
    const auto header = parseJson<v1::DownloadCoreResponse>(zst.out);
    CHECK(header.compression() == v1::CORE_COMPRESSION_ZSTD);
    const std::string compressed = readFile(zst_path);
    CHECK(compressed.size() == header.total_bytes());
    CHECK(compressed.compare(0, 4, "\x28\xb5\x2f\xfd") == 0);  // zstd's magic
  }

  {  // crash gdb: the debugger on the executable and the downloaded core
    const CliRun gdb = cli({"crash", "gdb", prefix, "--debugger", "gdb -batch -nx -ex bt"});
    INFO(gdb);
    CHECK(gdb.exit_code == 0);
    CHECK(contains(gdb.out, "level3"));
    CHECK(contains(gdb.out, "level1"));
    const CliRun missing = cli({"crash", "gdb", id, "--debugger", "vigie-no-such-gdb -q"});
    CHECK(missing.exit_code == 1);
    CHECK(contains(missing.err, "vigie-no-such-gdb is not installed (not found in PATH)"));
  }

  {  // errors: unknown id, ambiguous prefix, an incident without a core
    const CliRun unknown = cli({"crash", "show", "19990101"});
    CHECK(unknown.exit_code == 1);
    CHECK(matches(unknown.err,
                  "^vigiectl: no crash incident matches \"19990101\": [0-9]+ "
                  "incident\\(s\\) on record, the newest is [0-9T]+Z-[0-9]+-[0-9a-f]+\n$"));
    // The common prefix of the two ids: both are candidates.
    const std::string common = id.substr(
        0, static_cast<size_t>(std::mismatch(id.begin(), id.end(), exited.id().begin()).first -
                               id.begin()));
    const CliRun ambiguous = cli({"crash", "bt", common});
    INFO(ambiguous);
    CHECK(ambiguous.exit_code == 2);
    CHECK(matches(ambiguous.err, "^vigiectl: \"" + common +
                                     "\" is ambiguous: it starts [0-9]+ incident ids \\(.*; give "
                                     "more of the id\n$"));
    const CliRun no_core = cli({"crash", "core", exited.id(), "--output-file", dir.file("x")});
    CHECK(no_core.exit_code == 1);
    CHECK(
        contains(no_core.err, "has no core: the process exited with code 3, which dumps no core"));
  }

  {  // a read-role client over TCP: show without the environment, no core
    std::vector<std::string> show = certificates.cliFlags(port, "poller");
    show.insert(show.end(), {"crash", "show", id});
    const CliRun shown = runVigiectl(dir, show);
    INFO(shown);
    CHECK(shown.exit_code == 0);
    CHECK(contains(shown.out, "Environment:  withheld: admin callers only"));
    std::vector<std::string> core = certificates.cliFlags(port, "poller");
    core.insert(core.end(), {"crash", "core", id, "--output-file", dir.file("denied.core")});
    const CliRun denied = runVigiectl(dir, core);
    CHECK(denied.exit_code == 3);
    CHECK(contains(denied.err,
                   "refused access: client 'poller' has the read role; DownloadCore needs admin"));
  }

  {  // node: the core_pattern line
    const CliRun node = cli({"node"});
    CHECK(contains(node.out, "Cores:       vigie's helper \"|"));
  }
  CHECK(agent.stop());
}

}  // namespace
}  // namespace vigie::testing
