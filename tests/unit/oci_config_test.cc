// The config.json written for a rootfs container, read back with nlohmann_json, and the lookup
// of a static init on the host.
#include "agent/runtime/oci_config.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/fakes/temp_dir.h"
#include "vigie/config.h"

namespace vigie {
namespace {

using nlohmann::json;

ContainerSpec rootfsSpec() {
  ContainerSpec spec;
  spec.rootfs = "/srv/web/rootfs";
  spec.args = {"/bin/httpd", "-f"};
  return spec;
}

json configJson(const ContainerSpec& spec, const OciConfigInputs& inputs = {"web", "", ""}) {
  Result<std::string> text = makeOciConfig(spec, inputs);
  REQUIRE_MESSAGE(text.ok(), text.error().message);
  // Not json::parse's throwing form: a malformed document is a failed check, not an exception.
  json parsed = json::parse(*text, nullptr, false);
  REQUIRE_FALSE(parsed.is_discarded());
  return parsed;
}

std::vector<std::string> strings(const json& list) {
  return list.get<std::vector<std::string>>();
}

std::vector<std::string> namespaceTypes(const json& config) {
  std::vector<std::string> types;
  for (const json& entry : config["linux"]["namespaces"]) {
    types.push_back(entry["type"].get<std::string>());
  }
  return types;
}

const json* findMount(const json& config, const std::string& destination) {
  for (const json& mount : config["mounts"]) {
    if (mount["destination"] == destination) {
      return &mount;
    }
  }
  return nullptr;
}

TEST_CASE("oci config: notify mounts the socket alone and sets NOTIFY_SOCKET and WATCHDOG_USEC") {
  OciConfigInputs inputs{"web", "", ""};
  inputs.notify_socket = "/run/vigie/notify";
  inputs.watchdog_usec = 10'000'000;
  const json config = configJson(rootfsSpec(), inputs);
  const json* socket = findMount(config, kContainerNotifyPath);
  REQUIRE(socket != nullptr);
  CHECK((*socket)["source"] == "/run/vigie/notify");
  CHECK((*socket)["type"] == "bind");
  const std::vector<std::string> env = strings(config["process"]["env"]);
  CHECK(std::find(env.begin(), env.end(), "NOTIFY_SOCKET=/dev/notify") != env.end());
  CHECK(std::find(env.begin(), env.end(), "WATCHDOG_USEC=10000000") != env.end());
  // Without notify, neither.
  const json plain = configJson(rootfsSpec());
  CHECK(findMount(plain, kContainerNotifyPath) == nullptr);
  CHECK(strings(plain["process"]["env"]).size() == 1);
}

TEST_CASE("oci config: the process, root and hostname of a default rootfs container") {
  const json config = configJson(rootfsSpec());
  CHECK(config["ociVersion"] == "1.0.2-dev");
  const json& process = config["process"];
  CHECK(strings(process["args"]) == std::vector<std::string>{"/bin/httpd", "-f"});
  CHECK(strings(process["env"]) ==
        std::vector<std::string>{
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"});
  CHECK(process["cwd"] == "/");
  CHECK(process["terminal"] == false);
  CHECK(process["noNewPrivileges"] == true);
  CHECK(process["user"]["uid"] == 0);
  CHECK(process["user"]["gid"] == 0);
  const std::vector<std::string> caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  for (const char* set : {"bounding", "effective", "permitted"}) {
    CAPTURE(set);
    CHECK(strings(process["capabilities"][set]) == caps);
  }
  CHECK_FALSE(process["capabilities"].contains("inheritable"));
  CHECK_FALSE(process["capabilities"].contains("ambient"));
  // The runtime inherits vigied's rlimits, and the unit's cgroup holds the limits.
  CHECK_FALSE(process.contains("rlimits"));
  CHECK_FALSE(config["linux"].contains("resources"));
  CHECK(config["root"]["path"] == "/srv/web/rootfs");
  CHECK(config["root"]["readonly"] == true);
  CHECK(config["hostname"] == "web");
  CHECK(strings(config["linux"]["maskedPaths"]).size() == 10);
  CHECK(strings(config["linux"]["readonlyPaths"]) ==
        std::vector<std::string>{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                 "/proc/sysrq-trigger"});
  std::vector<std::string> destinations;
  for (const json& mount : config["mounts"]) {
    destinations.push_back(mount["destination"].get<std::string>());
  }
  CHECK(destinations ==
        std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"});
  CHECK(std::count(findMount(config, "/sys")->at("options").begin(),
                   findMount(config, "/sys")->at("options").end(), "ro") == 1);
}

TEST_CASE("oci config: the spec's env, cwd, user, hostname and readonly") {
  ContainerSpec spec = rootfsSpec();
  spec.env = {{"B", "2"}, {"A", "1"}};
  spec.cwd = "/var/www";
  spec.uid = 1000;
  spec.hostname = "front";
  spec.readonly = false;
  json config = configJson(spec);
  CHECK(strings(config["process"]["env"]) ==
        std::vector<std::string>{
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "B=2", "A=1"});
  CHECK(config["process"]["cwd"] == "/var/www");
  // A uid alone: the gid follows it.
  CHECK(config["process"]["user"]["uid"] == 1000);
  CHECK(config["process"]["user"]["gid"] == 1000);
  CHECK(config["hostname"] == "front");
  CHECK(config["root"]["readonly"] == false);

  // A PATH of the spec replaces the default, in the spec's place.
  spec.env = {{"A", "1"}, {"PATH", "/opt/bin"}};
  spec.gid = 50;
  config = configJson(spec);
  CHECK(strings(config["process"]["env"]) == std::vector<std::string>{"A=1", "PATH=/opt/bin"});
  CHECK(config["process"]["user"]["gid"] == 50);
}

TEST_CASE("oci config: init runs first and is mounted read-only from the host") {
  ContainerSpec spec = rootfsSpec();
  spec.init = true;
  const json config = configJson(spec, {"web", "", "/usr/bin/tini-static"});
  CHECK(strings(config["process"]["args"]) ==
        std::vector<std::string>{"/dev/init", "--", "/bin/httpd", "-f"});
  const json* init = findMount(config, kContainerInitPath);
  REQUIRE(init != nullptr);
  CHECK((*init)["type"] == "bind");
  CHECK((*init)["source"] == "/usr/bin/tini-static");
  CHECK(strings((*init)["options"]) == std::vector<std::string>{"bind", "ro", "nosuid", "nodev"});
  // After /dev, whose tmpfs holds its mount point.
  CHECK(config["mounts"][1]["destination"] == "/dev");
  CHECK(config["mounts"][6]["destination"] == kContainerInitPath);

  Result<std::string> missing = makeOciConfig(spec, {"web", "", ""});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("no static init") != std::string::npos);
}

TEST_CASE("oci config: namespaces with and without host_network") {
  ContainerSpec spec = rootfsSpec();
  CHECK(namespaceTypes(configJson(spec)) ==
        std::vector<std::string>{"pid", "network", "ipc", "uts", "mount"});
  spec.host_network = true;
  CHECK(namespaceTypes(configJson(spec)) == std::vector<std::string>{"pid", "ipc", "uts", "mount"});
}

TEST_CASE("oci config: cgroupsPath only when given") {
  CHECK_FALSE(configJson(rootfsSpec())["linux"].contains("cgroupsPath"));
  const json config = configJson(rootfsSpec(), {"web", "/vigie.slice/web", ""});
  CHECK(config["linux"]["cgroupsPath"] == "/vigie.slice/web");
}

TEST_CASE("oci config: bind mounts in file order, read-only when asked") {
  ContainerSpec spec = rootfsSpec();
  spec.mounts = {{"/srv/data", "/data", false}, {"/etc/web", "/etc/web", true}};
  const json config = configJson(spec);
  REQUIRE(config["mounts"].size() == 8);
  const json& data = config["mounts"][6];
  CHECK(data["destination"] == "/data");
  CHECK(data["source"] == "/srv/data");
  CHECK(data["type"] == "bind");
  CHECK(strings(data["options"]) ==
        std::vector<std::string>{"rbind", "rprivate", "nosuid", "nodev"});
  const json& etc = config["mounts"][7];
  CHECK(etc["destination"] == "/etc/web");
  CHECK(strings(etc["options"]) ==
        std::vector<std::string>{"rbind", "rprivate", "nosuid", "nodev", "ro"});
}

TEST_CASE("oci config: a spec with no rootfs or no args is refused") {
  ContainerSpec bundle;
  bundle.bundle = "/srv/web";
  CHECK_FALSE(makeOciConfig(bundle, {"web", "", ""}).ok());
  ContainerSpec no_args = rootfsSpec();
  no_args.args.clear();
  CHECK_FALSE(makeOciConfig(no_args, {"web", "", ""}).ok());
}

TEST_CASE("oci config: findStaticInit takes the first statically linked executable") {
  testing::TempDir dir;
  const std::string static_copy = dir.path() + "/busybox";
  const std::string dynamic_copy = dir.path() + "/true";
  const std::string not_executable = dir.path() + "/busybox.noexec";
  std::filesystem::copy_file("/bin/busybox", static_copy);
  std::filesystem::copy_file("/bin/true", dynamic_copy);
  std::filesystem::copy_file("/bin/busybox", not_executable);
  REQUIRE(::chmod(not_executable.c_str(), 0644) == 0);
  const std::string text = dir.write("script", "#!/bin/sh\n", 0755);
  const std::string missing = dir.path() + "/catatonit";

  Result<std::string> found =
      findStaticInit({missing, dynamic_copy, not_executable, text, dir.path(), static_copy});
  REQUIRE_MESSAGE(found.ok(), found.error().message);
  CHECK(*found == static_copy);

  Result<std::string> none = findStaticInit({missing, dynamic_copy, not_executable, text});
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message == "no static init found: tried " + missing + " (missing), " +
                                    dynamic_copy + " (dynamically linked), " + not_executable +
                                    " (not executable), " + text +
                                    " (not an ELF file); install tini");
}

}  // namespace
}  // namespace vigie
