// Black-box, day-2 operations against the real build/bin/vigied: SIGHUP reloads that touch only
// what changed, drop-in config files, credentials (user, group, supplementary groups and the
// environment that goes with them), umask, rlimits, oom_score_adj, and the rotating log files.
// What vigied does is read from /proc, from files its workloads write, from its log (stderr) and
// from the files under its state dir.
#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/text_checks.h"

namespace vigie::testing {
namespace {

// The standard black-box command line, logging to stderr whatever the host runs.
DaemonProcess::Options daemonOptions(const TempDir& dir, const std::string& config) {
  std::vector<std::string> args = daemonArgs(dir, config);
  args.push_back("--log-target");
  args.push_back("stderr");
  return {.args = args};
}

// The one pid in a pidfile, once the workload wrote it; 0 while there is none.
pid_t onlyPid(const std::string& pidfile) {
  const std::vector<pid_t> pids = readPids(pidfile);
  return pids.size() == 1 ? pids.front() : 0;
}

// The value of "Key:" in /proc/PID/status (tabs and all), or nullopt.
std::optional<std::string> statusField(pid_t pid, const std::string& key) {
  for (const std::string& line : readLines("/proc/" + std::to_string(pid) + "/status")) {
    if (line.rfind(key + ":", 0) == 0) {
      return line.substr(key.size() + 1);
    }
  }
  return std::nullopt;
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  std::string word;
  while (in >> word) {
    out.push_back(word);
  }
  return out;
}

// Soft and hard values of the /proc/PID/limits line that starts with `label`.
std::optional<std::pair<std::string, std::string>> procLimit(pid_t pid, const std::string& label) {
  for (const std::string& line : readLines("/proc/" + std::to_string(pid) + "/limits")) {
    if (line.rfind(label, 0) == 0) {
      const std::vector<std::string> rest = words(line.substr(label.size()));
      if (rest.size() >= 2) {
        return std::make_pair(rest[0], rest[1]);
      }
    }
  }
  return std::nullopt;
}

// /proc/PID/environ as NAME -> value (first occurrence wins, as getenv would).
std::optional<std::string> procEnv(pid_t pid, const std::string& name) {
  const std::string text = readFile("/proc/" + std::to_string(pid) + "/environ");
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\0', start);
    if (end == std::string::npos) {
      end = text.size();
    }
    const std::string entry = text.substr(start, end - start);
    if (entry.rfind(name + "=", 0) == 0) {
      return entry.substr(name.size() + 1);
    }
    start = end + 1;
  }
  return std::nullopt;
}

std::vector<std::string> dirEntries(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) {
    return names;
  }
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") {
      names.push_back(name);
    }
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    out += name + " ";
  }
  return out;
}

off_t fileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

bool fileExists(const std::string& path) {
  return fileSize(path) >= 0;
}

// -------------------------------------------------------------------------------------------
// 1. SIGHUP reload.

std::string reloadConfig(const TempDir& dir, bool with_a, const std::string& b_file,
                         const std::string& c_policy, bool with_d, bool invalid = false) {
  std::string yaml = "workloads:\n";
  if (with_a) {
    yaml +=
        "  - name: a\n" + helperExec({"pidfile", dir.file("a.pids")}) + "    stop: {timeout: 2s}\n";
    if (invalid) {
      yaml += "    bogus: 1\n";  // line 5, column 5.
    }
  }
  yaml += "  - name: b\n" + helperExec({"pidfile", b_file}) + "    stop: {timeout: 2s}\n";
  yaml += "  - name: c\n" + helperExec({"pidfile", dir.file("c.pids")}) +
          "    stop: {timeout: 2s}\n" + "    restart: {policy: " + c_policy + "}\n";
  if (with_d) {
    yaml +=
        "  - name: d\n" + helperExec({"pidfile", dir.file("d.pids")}) + "    stop: {timeout: 2s}\n";
  }
  return yaml;
}

TEST_CASE("day2: SIGHUP reload restarts only the changed unit and rejects an invalid config") {
  TempDir dir;
  const std::string config = dir.file("vigie.yaml");
  writeFile(config, reloadConfig(dir, true, dir.file("b.pids"), "always", false));
  DaemonProcess vigied(dir, daemonOptions(dir, config));
  REQUIRE_MESSAGE(pollUntil([&] {
                    return onlyPid(dir.file("a.pids")) > 0 && onlyPid(dir.file("b.pids")) > 0 &&
                           onlyPid(dir.file("c.pids")) > 0;
                  }),
                  vigied.stderrText());
  const pid_t a_pid = onlyPid(dir.file("a.pids"));
  const pid_t b_pid = onlyPid(dir.file("b.pids"));
  const pid_t c_pid = onlyPid(dir.file("c.pids"));

  // b's argv changes (a new pidfile), c's restart policy only: b restarts, c is updated in place.
  writeFile(config, reloadConfig(dir, true, dir.file("b2.pids"), "on-failure", false));
  REQUIRE(::kill(vigied.pid(), SIGHUP) == 0);
  REQUIRE_MESSAGE(vigied.waitForLog("reloaded " + config), vigied.stderrText());
  REQUIRE_MESSAGE(
      pollUntil([&] { return onlyPid(dir.file("b2.pids")) > 0 && !processAlive(b_pid); }),
      vigied.stderrText());
  {
    INFO("vigied log:\n" << vigied.stderrText());
    const std::vector<std::string> reloaded = linesContaining(vigied.stderrText(), "reloaded ");
    REQUIRE(reloaded.size() == 1);
    CHECK(contains(reloaded[0], "1 restarted"));
    CHECK(contains(reloaded[0], "1 updated in place"));
    CHECK(contains(reloaded[0], "1 unchanged"));
    const pid_t b2_pid = onlyPid(dir.file("b2.pids"));
    CHECK(b2_pid != b_pid);
    CHECK(processAlive(b2_pid));
    CHECK(processAlive(a_pid));
    CHECK(processAlive(c_pid));
    CHECK(readPids(dir.file("a.pids")) == std::vector<pid_t>{a_pid});
    CHECK(readPids(dir.file("c.pids")) == std::vector<pid_t>{c_pid});
    CHECK(readPids(dir.file("b.pids")) == std::vector<pid_t>{b_pid});
  }
  const pid_t b2_pid = onlyPid(dir.file("b2.pids"));

  // An invalid config is rejected whole, with file:line:col, and nothing running is touched.
  writeFile(config, reloadConfig(dir, true, dir.file("b3.pids"), "never", true, true));
  REQUIRE(::kill(vigied.pid(), SIGHUP) == 0);
  REQUIRE_MESSAGE(vigied.waitForLog("reload of " + config + " rejected"), vigied.stderrText());
  {
    const std::string log = vigied.stderrText();
    INFO("vigied log:\n" << log);
    CHECK(contains(
        log, "reload of " + config + " rejected (1 error(s)); the running units are unchanged"));
    const std::vector<std::string> errors = linesContaining(log, "unknown key \"bogus\"");
    REQUIRE(errors.size() == 1);
    CHECK(contains(errors[0], config + ":5:5: "));
    CHECK(countOf(log, "reloaded ") == 1);
    CHECK(processAlive(a_pid));
    CHECK(processAlive(b2_pid));
    CHECK(processAlive(c_pid));
    CHECK(readPids(dir.file("a.pids")) == std::vector<pid_t>{a_pid});
    CHECK(readPids(dir.file("b2.pids")) == std::vector<pid_t>{b2_pid});
    CHECK(readPids(dir.file("c.pids")) == std::vector<pid_t>{c_pid});
    CHECK_FALSE(fileExists(dir.file("b3.pids")));
  }

  // a removed, d added: a's process dies, d starts, b and c run on.
  writeFile(config, reloadConfig(dir, false, dir.file("b2.pids"), "on-failure", true));
  REQUIRE(::kill(vigied.pid(), SIGHUP) == 0);
  REQUIRE_MESSAGE(pollUntil([&] { return countOf(vigied.stderrText(), "reloaded ") == 2; }),
                  vigied.stderrText());
  REQUIRE_MESSAGE(
      pollUntil([&] { return onlyPid(dir.file("d.pids")) > 0 && !processAlive(a_pid); }),
      vigied.stderrText());
  const std::string log = vigied.stderrText();
  INFO("vigied log:\n" << log);
  const std::vector<std::string> reloaded = linesContaining(log, "reloaded ");
  REQUIRE(reloaded.size() == 2);
  CHECK(contains(reloaded[1], "1 added"));
  CHECK(contains(reloaded[1], "1 removed"));
  CHECK(contains(reloaded[1], "2 unchanged"));
  CHECK(processAlive(onlyPid(dir.file("d.pids"))));
  CHECK(processAlive(b2_pid));
  CHECK(processAlive(c_pid));
  CHECK(readPids(dir.file("a.pids")) == std::vector<pid_t>{a_pid});  // not restarted.
  CHECK(readPids(dir.file("b2.pids")) == std::vector<pid_t>{b2_pid});
  CHECK(readPids(dir.file("c.pids")) == std::vector<pid_t>{c_pid});
  CHECK(vigied.running());
}

// -------------------------------------------------------------------------------------------
// 2. Drop-ins.

TEST_CASE("day2: drop-in files add units; an error in one names the drop-in with line:col") {
  TempDir dir;
  REQUIRE(::mkdir(dir.file("workloads.d").c_str(), 0755) == 0);
  const std::string config = dir.file("vigie.yaml");
  writeFile(config,
            "include: [\"workloads.d/*.yaml\"]\n"
            "workloads:\n"
            "  - name: main\n" +
                helperExec({"pidfile", dir.file("main.pids")}) + "    stop: {timeout: 2s}\n");
  writeFile(dir.file("workloads.d/10-x.yaml"),
            "workloads:\n"
            "  - name: x\n" +
                helperExec({"pidfile", dir.file("x.pids")}) + "    stop: {timeout: 2s}\n");
  writeFile(dir.file("workloads.d/20-y.yaml"),
            "workloads:\n"
            "  - name: y\n" +
                helperExec({"pidfile", dir.file("y.pids")}) + "    stop: {timeout: 2s}\n");
  {
    DaemonProcess check(dir, {.args = {"--check-config", config}});
    REQUIRE(check.waitExit());
    CHECK_MESSAGE(check.exitCode() == 0, check.describeStatus() << "\n" << check.stderrText());
    CHECK(check.stdoutText() == config + ": ok, 3 workload(s)\n");
  }
  {
    DaemonProcess vigied(dir, daemonOptions(dir, config));
    REQUIRE_MESSAGE(pollUntil([&] {
                      return onlyPid(dir.file("main.pids")) > 0 &&
                             onlyPid(dir.file("x.pids")) > 0 && onlyPid(dir.file("y.pids")) > 0;
                    }),
                    vigied.stderrText());
    CHECK(processAlive(onlyPid(dir.file("x.pids"))));
    CHECK(processAlive(onlyPid(dir.file("y.pids"))));
    CHECK(contains(vigied.stderrText(), "vigied started: 3 unit(s)"));
    REQUIRE(::kill(vigied.pid(), SIGTERM) == 0);
    REQUIRE(vigied.waitExit());
    CHECK(vigied.exitCode() == 0);
  }

  const std::string bad = dir.file("workloads.d/30-bad.yaml");
  writeFile(bad,
            "workloads:\n"                   // 1
            "  - name: z\n"                  // 2
            "    exce: [\"/bin/true\"]\n");  // 3: unknown key at column 5 (and no exec).
  DaemonProcess check(dir, {.args = {"--check-config", config}});
  REQUIRE(check.waitExit());
  const std::string errors = check.stderrText();
  INFO("stderr:\n" << errors);
  CHECK_MESSAGE(check.exitCode() == 1, check.describeStatus());
  const std::vector<std::string> lines = linesContaining(errors, "unknown key \"exce\"");
  REQUIRE(lines.size() == 1);
  CHECK(contains(lines[0], "30-bad.yaml:3:5: "));
  CHECK_FALSE(contains(lines[0], "vigie.yaml:"));
  // Every error line names the drop-in (none blames the main file).
  for (const std::string& line : linesContaining(errors, ": ")) {
    CHECK(contains(line, "30-bad.yaml:"));
  }
}

// -------------------------------------------------------------------------------------------
// 3. Credentials.

std::vector<gid_t> expectedGroups(const passwd& user, gid_t primary) {
  int count = 64;
  std::vector<gid_t> groups(static_cast<size_t>(count));
  while (::getgrouplist(user.pw_name, primary, groups.data(), &count) < 0) {
    groups.resize(static_cast<size_t>(count));
  }
  groups.resize(static_cast<size_t>(count));
  std::sort(groups.begin(), groups.end());
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
  return groups;
}

std::vector<gid_t> statusGroups(pid_t pid) {
  std::vector<gid_t> groups;
  for (const std::string& word : words(statusField(pid, "Groups").value_or(""))) {
    groups.push_back(static_cast<gid_t>(std::stoul(word)));
  }
  std::sort(groups.begin(), groups.end());
  return groups;
}

std::string ids(const std::vector<gid_t>& groups) {
  std::string out;
  for (gid_t gid : groups) {
    out += std::to_string(gid) + " ";
  }
  return out;
}

void checkCredentials(pid_t pid, const passwd& user, gid_t gid) {
  INFO("pid " << pid << " status:\n" << readFile("/proc/" + std::to_string(pid) + "/status"));
  const std::string uid_text = std::to_string(user.pw_uid);
  const std::string gid_text = std::to_string(gid);
  CHECK(words(statusField(pid, "Uid").value_or("")) ==
        std::vector<std::string>{uid_text, uid_text, uid_text, uid_text});
  CHECK(words(statusField(pid, "Gid").value_or("")) ==
        std::vector<std::string>{gid_text, gid_text, gid_text, gid_text});
  const std::vector<gid_t> expected = expectedGroups(user, gid);
  const std::vector<gid_t> got = statusGroups(pid);
  CHECK_MESSAGE(got == expected, "Groups: " << ids(got) << "expected " << ids(expected));
  CHECK(procEnv(pid, "HOME") == std::optional<std::string>(user.pw_dir));
  CHECK(procEnv(pid, "USER") == std::optional<std::string>(user.pw_name));
  CHECK(procEnv(pid, "LOGNAME") == std::optional<std::string>(user.pw_name));
}

TEST_CASE("day2: units run as nobody with its uid, gid, supplementary groups and environment") {
  const passwd* found = ::getpwnam("nobody");
  REQUIRE_MESSAGE(found != nullptr, "no user nobody on this host");
  passwd nobody = *found;
  const std::string nobody_name = nobody.pw_name;
  const std::string nobody_home = nobody.pw_dir;
  nobody.pw_name = const_cast<char*>(nobody_name.c_str());
  nobody.pw_dir = const_cast<char*>(nobody_home.c_str());
  const group* nogroup = ::getgrnam("nogroup");
  REQUIRE(nogroup != nullptr);
  const gid_t nogroup_gid = nogroup->gr_gid;
  const group* daemon_group = ::getgrnam("daemon");
  REQUIRE(daemon_group != nullptr);
  const gid_t daemon_gid = daemon_group->gr_gid;
  REQUIRE(daemon_gid != nobody.pw_gid);

  TempDir dir;
  REQUIRE(::chmod(dir.path().c_str(), 0777) == 0);  // the workloads write their pidfiles here.
  const std::string config = dir.file("vigie.yaml");
  writeFile(config,
            "workloads:\n"
            "  - name: plain\n" +
                helperExec({"pidfile", dir.file("plain.pids")}) +
                "    user: nobody\n"
                "    stop: {timeout: 2s}\n"
                "  - name: grouped\n" +
                helperExec({"pidfile", dir.file("grouped.pids")}) +
                "    user: nobody\n"
                "    group: nogroup\n"
                "    stop: {timeout: 2s}\n"
                "  - name: other\n" +
                helperExec({"pidfile", dir.file("other.pids")}) +
                "    user: nobody\n"
                "    group: daemon\n"
                "    stop: {timeout: 2s}\n");
  DaemonProcess vigied(dir, daemonOptions(dir, config));
  REQUIRE_MESSAGE(pollUntil([&] {
                    return onlyPid(dir.file("plain.pids")) > 0 &&
                           onlyPid(dir.file("grouped.pids")) > 0 &&
                           onlyPid(dir.file("other.pids")) > 0;
                  }),
                  vigied.stderrText());
  INFO("vigied log:\n" << vigied.stderrText());
  {
    INFO("unit plain (user: nobody)");
    checkCredentials(onlyPid(dir.file("plain.pids")), nobody, nobody.pw_gid);
  }
  {
    INFO("unit grouped (user: nobody, group: nogroup)");
    checkCredentials(onlyPid(dir.file("grouped.pids")), nobody, nogroup_gid);
  }
  {
    INFO("unit other (user: nobody, group: daemon)");
    checkCredentials(onlyPid(dir.file("other.pids")), nobody, daemon_gid);
  }
}

// -------------------------------------------------------------------------------------------
// 4. umask, rlimits, oom_score_adj.

TEST_CASE("day2: umask, rlimits and oom_score_adj reach the workload") {
  TempDir dir;
  const std::string config = dir.file("vigie.yaml");
  writeFile(config,
            "workloads:\n"
            "  - name: tuned\n" +
                helperExec({"pidfile", dir.file("tuned.pids")}) +
                "    umask: \"0027\"\n"
                "    rlimits: {nofile: {soft: 1024, hard: 2048}, core: 0}\n"
                "    oom_score_adj: 500\n"
                "    stop: {timeout: 2s}\n"
                "  - name: plain\n" +
                helperExec({"pidfile", dir.file("plain.pids")}) + "    stop: {timeout: 2s}\n");
  DaemonProcess vigied(dir, daemonOptions(dir, config));
  REQUIRE_MESSAGE(pollUntil([&] {
                    return onlyPid(dir.file("tuned.pids")) > 0 &&
                           onlyPid(dir.file("plain.pids")) > 0;
                  }),
                  vigied.stderrText());
  const pid_t pid = onlyPid(dir.file("tuned.pids"));
  const std::string proc = "/proc/" + std::to_string(pid);
  INFO("status:\n" << readFile(proc + "/status") << "limits:\n" << readFile(proc + "/limits"));
  CHECK(statusField(pid, "Umask") == std::optional<std::string>("\t0027"));
  using Limit = std::optional<std::pair<std::string, std::string>>;
  CHECK(procLimit(pid, "Max open files") == Limit(std::make_pair("1024", "2048")));
  CHECK(procLimit(pid, "Max core file size") == Limit(std::make_pair("0", "0")));
  CHECK(words(readFile(proc + "/oom_score_adj")) == std::vector<std::string>{"500"});

  // The defaults for a unit that sets none of them: umask 0022, and the agent's own
  // oom_score_adj (not the other unit's 500).
  const pid_t plain = onlyPid(dir.file("plain.pids"));
  CHECK(statusField(plain, "Umask") == std::optional<std::string>("\t0022"));
  CHECK(words(readFile("/proc/" + std::to_string(plain) + "/oom_score_adj")) ==
        words(readFile("/proc/" + std::to_string(vigied.pid()) + "/oom_score_adj")));
}

// -------------------------------------------------------------------------------------------
// 5. Rotating log files.

TEST_CASE("day2: log files hold the instance markers and output, rotated within their limits") {
  TempDir dir;
  const std::string config = dir.file("vigie.yaml");
  writeFile(config,
            "workloads:\n"
            "  - name: chatty\n" +
                helperExec({"print", "hello-day2", "1"}) +
                "    restart:\n"
                "      backoff: {initial: 10ms, max: 20ms}\n"
                "      limit: {burst: 0}\n"
                "    output: {file: {max_size: 4KiB, max_files: 2}}\n");
  const std::string logs = dir.file("state/logs/chatty");
  DaemonProcess vigied(dir, daemonOptions(dir, config));
  // Each instance writes a marker and three lines (~100 bytes): rotation comes within seconds.
  REQUIRE_MESSAGE(pollUntil([&] {
                    return fileExists(logs + "/stdout.log.1") && fileExists(logs + "/stderr.log.1");
                  }),
                  "log dir: " << joined(dirEntries(logs)) << "\n"
                              << vigied.stderrText());
  REQUIRE(::kill(vigied.pid(), SIGTERM) == 0);
  REQUIRE(vigied.waitExit());
  CHECK_MESSAGE(vigied.exitCode() == 0, vigied.describeStatus());

  const std::string log = vigied.stderrText();
  // The last instance vigied logged.
  uint64_t last = 0;
  while (loggedPid(log, "chatty", last + 1) != 0) {
    ++last;
  }
  // The one before the last ran to its end (the last may have been stopped before printing).
  REQUIRE_MESSAGE(last >= 2, log);
  const pid_t last_pid = loggedPid(log, "chatty", last);
  const pid_t done_pid = loggedPid(log, "chatty", last - 1);

  const std::vector<std::string> entries = dirEntries(logs);
  INFO("log dir: " << joined(entries));
  for (const std::string& name : entries) {
    const bool known = name == "stdout.log" || name == "stdout.log.1" || name == "stderr.log" ||
                       name == "stderr.log.1";
    CHECK_MESSAGE(known, "unexpected file " << name << " (max_files: 2)");
    const off_t size = fileSize(logs + "/" + name);
    CHECK_MESSAGE(size <= 4096, name << " has " << size << " bytes (max_size: 4KiB)");
  }

  const std::string out = readFile(logs + "/stdout.log");
  const std::string out_all = readFile(logs + "/stdout.log.1") + out;
  const std::string err_all = readFile(logs + "/stderr.log.1") + readFile(logs + "/stderr.log");
  INFO("stdout.log:\n" << out);
  CHECK(contains(out, "-- vigie: instance "));
  const auto markerOf = [](uint64_t instance, pid_t pid) {
    return "-- vigie: instance " + std::to_string(instance) + " started, pid " +
           std::to_string(pid) + " --\n";
  };
  const std::string last_marker = markerOf(last, last_pid);
  CHECK_MESSAGE(contains(out, last_marker), "no " << last_marker << " in stdout.log");
  CHECK_MESSAGE(contains(err_all, last_marker), "no " << last_marker << " in stderr logs");
  const std::string done_marker = markerOf(last - 1, done_pid);
  CHECK(contains(out_all, done_marker + "hello-day2 1\nhello-day2 2\nhello-day2 3\n"));
  CHECK(contains(err_all, done_marker + "err: hello-day2\n"));
  // Every line is whole: a marker or the workload's own.
  for (const std::string& line : linesContaining(out_all, "")) {
    const bool ok = line.rfind("-- vigie: instance ", 0) == 0 || line.rfind("hello-day2 ", 0) == 0;
    CHECK_MESSAGE(ok, "unexpected line in stdout logs: " << line);
  }
}

// -------------------------------------------------------------------------------------------
// 6. Unknown user.

TEST_CASE("day2: an unknown user is a config error with its line:col") {
  TempDir dir;
  const std::string config = dir.file("vigie.yaml");
  writeFile(config,
            "workloads:\n"                                         // 1
            "  - name: ghost\n" +                                  // 2
                helperExec({"pidfile", dir.file("ghost.pids")}) +  // 3
                "    user: no-such-user-vigie\n");                 // 4: the value at column 11.
  {
    DaemonProcess check(dir, {.args = {"--check-config", config}});
    REQUIRE(check.waitExit());
    const std::string errors = check.stderrText();
    INFO("stderr:\n" << errors);
    CHECK_MESSAGE(check.exitCode() == 1, check.describeStatus());
    CHECK(check.stdoutText().empty());
    const std::vector<std::string> lines = linesContaining(errors, "unknown user");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].rfind(config + ":4:11: ", 0) == 0);
    CHECK(contains(lines[0], "no-such-user-vigie"));
  }
  // vigied refuses to start on it, and starts nothing.
  DaemonProcess vigied(dir, daemonOptions(dir, config));
  REQUIRE(vigied.waitExit());
  INFO("vigied log:\n" << vigied.stderrText());
  CHECK(vigied.exitCode() == 1);
  CHECK(contains(vigied.stderrText(), config + ":4:11: "));
  CHECK_FALSE(fileExists(dir.file("ghost.pids")));
}

}  // namespace
}  // namespace vigie::testing
