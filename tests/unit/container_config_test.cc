// A workload's `container:` section: rootfs and bundle containers, every error at its position,
// the process keys a container workload refuses, and reloads of a changed container.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/fakes/config_strings.h"
#include "vigie/config.h"

namespace vigie {
namespace {

using testing::configOf;
using testing::errorOf;
using testing::errorsOf;
using testing::workloadOf;

// Line 3 is `container:`, its keys start on line 4 at column 7.
std::string containerWorkload(const std::string& keys, const std::string& after = "") {
  return "workloads:\n  - name: web\n    container:\n" + keys + after;
}

const std::string kRootfs = "      rootfs: /srv/web/rootfs\n      args: [/bin/httpd, -f]\n";

TEST_CASE("container config: a rootfs container with every key") {
  const WorkloadSpec spec = workloadOf(
      containerWorkload("      runtime: crun\n"
                        "      rootfs: /srv/web/rootfs\n"
                        "      args: [/bin/httpd, -f]\n"
                        "      env: {A: b, PATH: /bin}\n"
                        "      cwd: /var/www\n"
                        "      user: \"1000:2000\"\n"
                        "      hostname: web-1.example\n"
                        "      readonly: false\n"
                        "      host_network: true\n"
                        "      mounts:\n"
                        "        - {source: /srv/data, destination: /data}\n"
                        "        - {source: /etc/web, destination: /etc/web, readonly: true}\n"
                        "      init: true\n"));
  REQUIRE(spec.container.has_value());
  const ContainerSpec& container = *spec.container;
  CHECK(container.runtime == "crun");
  CHECK(container.rootfs == "/srv/web/rootfs");
  CHECK(container.bundle.empty());
  CHECK(container.args == std::vector<std::string>{"/bin/httpd", "-f"});
  CHECK(container.env ==
        std::vector<std::pair<std::string, std::string>>{{"A", "b"}, {"PATH", "/bin"}});
  CHECK(container.cwd == "/var/www");
  CHECK(container.uid == 1000u);
  CHECK(container.gid == 2000u);
  CHECK(container.hostname == "web-1.example");
  CHECK_FALSE(container.readonly);
  CHECK(container.host_network);
  REQUIRE(container.mounts.size() == 2);
  CHECK(container.mounts[0] == ContainerMountSpec{"/srv/data", "/data", false});
  CHECK(container.mounts[1] == ContainerMountSpec{"/etc/web", "/etc/web", true});
  CHECK(container.init);
  CHECK(container.location.line == 3);
  CHECK(container.location.column == 5);
  // The process keys stay at their defaults: a container workload has no exec.
  CHECK(spec.exec.empty());
  CHECK(spec.env.empty());
}

TEST_CASE("container config: the defaults of a rootfs container") {
  const WorkloadSpec spec = workloadOf(containerWorkload(kRootfs));
  REQUIRE(spec.container.has_value());
  const ContainerSpec& container = *spec.container;
  CHECK(container.runtime.empty());
  CHECK(container.cwd == "/");
  CHECK_FALSE(container.uid.has_value());
  CHECK_FALSE(container.gid.has_value());
  CHECK(container.hostname.empty());
  CHECK(container.readonly);
  CHECK_FALSE(container.host_network);
  CHECK(container.mounts.empty());
  CHECK_FALSE(container.init);

  // A uid alone leaves the gid to the config writer; a runtime may be an absolute path.
  const WorkloadSpec numeric = workloadOf(
      containerWorkload(kRootfs + "      user: 1000\n      runtime: /opt/runc/bin/runc\n"));
  CHECK(numeric.container->uid == 1000u);
  CHECK_FALSE(numeric.container->gid.has_value());
  CHECK(numeric.container->runtime == "/opt/runc/bin/runc");
}

TEST_CASE("container config: a bundle container takes only runtime and init false") {
  const WorkloadSpec spec = workloadOf(
      containerWorkload("      bundle: /srv/web\n      runtime: runc\n      init: false\n"));
  REQUIRE(spec.container.has_value());
  CHECK(spec.container->bundle == "/srv/web");
  CHECK(spec.container->rootfs.empty());
  CHECK(spec.container->runtime == "runc");
  CHECK(spec.container->args.empty());

  CHECK(errorsOf(containerWorkload("      bundle: /srv/web\n"
                                   "      args: [/bin/sh]\n"
                                   "      hostname: web\n")) ==
        std::vector<std::string>{
            "vigie.yaml:5:7: workloads[0].container.args: not used with bundle (the bundle's "
            "config.json is used as is; only runtime may be set)",
            "vigie.yaml:6:7: workloads[0].container.hostname: not used with bundle (the "
            "bundle's config.json is used as is; only runtime may be set)"});
  CHECK(errorOf(containerWorkload("      bundle: /srv/web\n      init: true\n")) ==
        "vigie.yaml:5:7: workloads[0].container.init: needs rootfs (the bundle's config.json is "
        "used as is)");
}

TEST_CASE("container config: exactly one of rootfs and bundle, both absolute") {
  CHECK(errorOf(containerWorkload("      rootfs: /srv/web/rootfs\n"
                                  "      bundle: /srv/web\n"
                                  "      args: [/bin/sh]\n")) ==
        "vigie.yaml:5:7: workloads[0].container: only one of rootfs and bundle may be given");
  CHECK(errorOf(containerWorkload("      args: [/bin/sh]\n")) ==
        "vigie.yaml:4:7: workloads[0].container: missing required key \"rootfs\" (or "
        "\"bundle\")");
  CHECK(errorOf(containerWorkload("      rootfs: srv/web/rootfs\n      args: [/bin/sh]\n")) ==
        "vigie.yaml:4:15: workloads[0].container.rootfs: \"srv/web/rootfs\" is not an absolute "
        "path");
  CHECK(errorOf(containerWorkload("      bundle: web\n")) ==
        "vigie.yaml:4:15: workloads[0].container.bundle: \"web\" is not an absolute path");
  CHECK(errorOf("workloads:\n  - name: web\n    container:\n") ==
        "vigie.yaml:3:5: workloads[0].container: expected a map with rootfs or bundle");
}

TEST_CASE("container config: a rootfs container needs args, checked like exec") {
  CHECK(errorOf(containerWorkload("      rootfs: /srv/web/rootfs\n      cwd: /\n")) ==
        "vigie.yaml:4:7: workloads[0].container: missing required key \"args\" (the "
        "container's command)");
  CHECK(errorOf(containerWorkload("      rootfs: /srv/web/rootfs\n      args: []\n")) ==
        "vigie.yaml:5:13: workloads[0].container.args: must not be empty (expected the program "
        "and its arguments)");
  CHECK(errorOf(containerWorkload("      rootfs: /srv/web/rootfs\n      args: [\"\", -f]\n")) ==
        "vigie.yaml:5:14: workloads[0].container.args[0]: the program must not be empty");
}

TEST_CASE("container config: user is a numeric uid or uid:gid") {
  CHECK(errorOf(containerWorkload(kRootfs + "      user: www-data\n")) ==
        "vigie.yaml:6:13: workloads[0].container.user: \"www-data\": use a numeric uid[:gid] "
        "(names would be looked up in the container's /etc/passwd)");
  CHECK(errorOf(containerWorkload(kRootfs + "      user: \"1000:www\"\n")) ==
        "vigie.yaml:6:13: workloads[0].container.user: \"1000:www\": use a numeric uid[:gid] "
        "(names would be looked up in the container's /etc/passwd)");
  CHECK(errorOf(containerWorkload(kRootfs + "      user: \"1000:\"\n")) ==
        "vigie.yaml:6:13: workloads[0].container.user: \"1000:\" is not a uid[:gid] (expected "
        "numbers up to 4294967294, such as 1000 or 1000:1000)");
  CHECK(errorOf(containerWorkload(kRootfs + "      user: 4294967295\n")) ==
        "vigie.yaml:6:13: workloads[0].container.user: \"4294967295\" is not a uid[:gid] "
        "(expected numbers up to 4294967294, such as 1000 or 1000:1000)");
}

TEST_CASE("container config: env, cwd, hostname, runtime and flags are checked") {
  CHECK(errorsOf(containerWorkload(kRootfs + "      env: {1A: x, OK: y, B-C: z}\n"
                                             "      cwd: www\n"
                                             "      hostname: \"web_1\"\n"
                                             "      runtime: docker\n"
                                             "      readonly: maybe\n")) ==
        std::vector<std::string>{
            "vigie.yaml:6:13: workloads[0].container.env: invalid variable name \"1A\" (expected "
            "letters, digits and \"_\", not starting with a digit)",
            "vigie.yaml:6:27: workloads[0].container.env: invalid variable name \"B-C\" "
            "(expected letters, digits and \"_\", not starting with a digit)",
            "vigie.yaml:7:12: workloads[0].container.cwd: \"www\" is not an absolute path",
            "vigie.yaml:8:17: workloads[0].container.hostname: invalid hostname \"web_1\" (use 1 "
            "to 64 letters, digits, \"-\" and \".\", not starting with \"-\")",
            "vigie.yaml:9:16: workloads[0].container.runtime: unknown runtime \"docker\" "
            "(expected runc, crun or an absolute path)",
            "vigie.yaml:10:17: workloads[0].container.readonly: expected true or false, got "
            "\"maybe\""});
  CHECK(errorOf(containerWorkload(kRootfs + "      rootfz: /x\n")) ==
        "vigie.yaml:6:7: unknown key \"rootfz\" in workloads[0].container (did you mean "
        "\"rootfs\"?)");
}

TEST_CASE("container config: mounts need absolute source and destination") {
  CHECK(errorsOf(containerWorkload(kRootfs +
                                   "      mounts:\n"
                                   "        - {source: /srv/data}\n"
                                   "        - {source: data, destination: /data}\n"
                                   "        - {source: /srv, destination: /, readonly: yes}\n")) ==
        std::vector<std::string>{
            "vigie.yaml:7:11: workloads[0].container.mounts[0]: missing required key "
            "\"destination\"",
            "vigie.yaml:8:20: workloads[0].container.mounts[1].source: \"data\" is not an "
            "absolute path",
            "vigie.yaml:9:39: workloads[0].container.mounts[2].destination: must not be \"/\" "
            "(the container's root is rootfs)",
            "vigie.yaml:9:52: workloads[0].container.mounts[2].readonly: expected true or false, "
            "got \"yes\""});
}

TEST_CASE("container config: exec and container are exclusive") {
  CHECK(errorOf("workloads:\n"
                "  - name: web\n"
                "    exec: [/bin/httpd]\n"
                "    container:\n"
                "      rootfs: /srv/web/rootfs\n"
                "      args: [/bin/httpd]\n") ==
        "vigie.yaml:3:5: workloads[0].exec: not used by container workloads (use container.args "
        "for a container's command)");
  // Neither: the error of a workload with no exec, as before containers.
  CHECK(errorOf("workloads:\n  - name: web\n    restart: {policy: always}\n") ==
        "vigie.yaml:2:5: missing required key \"exec\"");
}

TEST_CASE("container config: the process keys of a workload are refused with a container") {
  CHECK(errorsOf(containerWorkload(kRootfs,
                                   "    env: {A: b}\n"
                                   "    cwd: /\n"
                                   "    user: root\n"
                                   "    group: root\n"
                                   "    umask: \"0027\"\n")) ==
        std::vector<std::string>{
            "vigie.yaml:6:5: workloads[0].env: not used by container workloads (set "
            "container.env)",
            "vigie.yaml:7:5: workloads[0].cwd: not used by container workloads (set "
            "container.cwd)",
            "vigie.yaml:8:5: workloads[0].user: not used by container workloads (set "
            "container.user: a numeric uid[:gid])",
            "vigie.yaml:9:5: workloads[0].group: not used by container workloads (set "
            "container.user: a numeric uid:gid)",
            "vigie.yaml:10:5: workloads[0].umask: not used by container workloads"});
}

TEST_CASE("container config: notify and watchdog need a rootfs, whose config vigied writes") {
  const WorkloadSpec spec = workloadOf(containerWorkload(kRootfs,
                                                         "    notify: true\n"
                                                         "    watchdog: 10s\n"));
  CHECK(spec.notify);
  CHECK(spec.watchdog == std::chrono::seconds(10));
  CHECK(errorOf("workloads:\n"
                "  - name: web\n"
                "    container:\n"
                "      bundle: /srv/web\n"
                "    notify: true\n") ==
        "vigie.yaml:5:5: workloads[0].notify: needs container.rootfs (a bundle's config.json is "
        "used as it is, without the notify socket)");
}

TEST_CASE("container config: limits, policies, output and probes stay with a container") {
  const WorkloadSpec spec = workloadOf(containerWorkload(kRootfs,
                                                         "    resources: {memory_max: 64MiB}\n"
                                                         "    rlimits: {nofile: 4096}\n"
                                                         "    core: false\n"
                                                         "    restart: {policy: on-failure}\n"
                                                         "    stop: {timeout: 5s}\n"
                                                         "    output: {tail: 8KiB}\n"
                                                         "    liveness: {tcp: {port: 80}}\n"));
  REQUIRE(spec.container.has_value());
  CHECK(spec.resources.memory_max == uint64_t{64} << 20);
  CHECK(spec.rlimits.size() == 1);
  CHECK_FALSE(spec.core);
  CHECK(spec.restart.policy == RestartPolicyKind::kOnFailure);
  CHECK(spec.stop.timeout == 5s);
  CHECK(spec.output.tail == 8u << 10);
  CHECK(spec.liveness.has_value());
}

TEST_CASE("container config: a changed container restarts the unit on reload") {
  const WorkloadSpec base = workloadOf(containerWorkload(kRootfs));
  // The same container written elsewhere in the file is the same container.
  const WorkloadSpec moved =
      workloadOf("# a comment moves every line\n" + containerWorkload(kRootfs));
  CHECK(moved.container->location.line != base.container->location.line);
  CHECK_FALSE(processDefinitionDiffers(base, moved));

  for (const std::string& change :
       {std::string("      hostname: other\n"), std::string("      readonly: false\n"),
        std::string("      env: {A: b}\n"), std::string("      user: \"7\"\n"),
        std::string("      mounts: [{source: /a, destination: /b}]\n"),
        std::string("      runtime: crun\n"), std::string("      init: true\n")}) {
    CAPTURE(change);
    CHECK(processDefinitionDiffers(base, workloadOf(containerWorkload(kRootfs + change))));
  }
  CHECK(processDefinitionDiffers(
      base,
      workloadOf(containerWorkload("      rootfs: /srv/web/rootfs\n      args: [/bin/sh]\n"))));
  // A process workload that becomes a container (and back) restarts too.
  const WorkloadSpec process = workloadOf("workloads:\n  - name: web\n    exec: [/bin/httpd]\n");
  CHECK(processDefinitionDiffers(process, base));
  CHECK(processDefinitionDiffers(base, process));
}

}  // namespace
}  // namespace vigie
