// The config.json from the OCI config writer, run by a real runc on a busybox root filesystem:
// the runtime must accept it, apply its hostname, env, read-only root and bind mounts, and hand
// back the container's exit status; the container's cgroup is gone after `runc delete`.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "agent/os/unique_fd.h"
#include "agent/runtime/oci_config.h"
#include "tests/integration/container_rootfs.h"
#include "tests/integration/harness.h"
#include "vigie/config.h"

namespace vigie::testing {
namespace {

std::string findRunc() {
  for (const char* candidate : {"/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc"}) {
    if (::access(candidate, X_OK) == 0) {
      return candidate;
    }
  }
  return "";
}

// Any cgroup directory named `name` under /sys/fs/cgroup: runc's default place for a container
// without cgroupsPath is its id, below the root or below runc's own cgroup, in each hierarchy.
bool cgroupNamed(const std::string& name) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::recursive_directory_iterator it("/sys/fs/cgroup",
                                      fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() >= 8) {
      it.disable_recursion_pending();
    }
    if (it->path().filename() == name) {
      return true;
    }
  }
  return false;
}

// `runc delete --force` at the end of the test, even when a check failed half-way.
class ContainerCleanup {
 public:
  ContainerCleanup(const TempDir& dir, std::string runc, std::string state, std::string id)
      : dir_(dir), runc_(std::move(runc)), state_(std::move(state)), id_(std::move(id)) {}
  ~ContainerCleanup() {
    DaemonProcess::Options options;
    options.program = runc_;
    options.args = {"--root", state_, "delete", "--force", id_};
    DaemonProcess process(dir_, std::move(options));
    (void)process.waitExit();
  }
  ContainerCleanup(const ContainerCleanup&) = delete;
  ContainerCleanup& operator=(const ContainerCleanup&) = delete;

 private:
  const TempDir& dir_;
  std::string runc_;
  std::string state_;
  std::string id_;
};

TEST_CASE("oci config: runc runs the generated config") {
  const std::string runc = findRunc();
  REQUIRE_MESSAGE(!runc.empty(), "runc is not installed (scripts/init.sh installs it)");
  REQUIRE(::geteuid() == 0);
  TempDir dir;

  const std::string bundle = dir.file("bundle");
  const std::string rootfs = makeBusyboxRootfs(bundle + "/rootfs");
  // A host directory bound read-write at /shared and read-only at /ro. The container reports
  // through it, then waits on a FIFO so that the test sees it running.
  const std::string shared = dir.file("shared");
  std::filesystem::create_directories(shared);
  REQUIRE(::mkfifo((shared + "/go").c_str(), 0600) == 0);

  ContainerSpec spec;
  spec.rootfs = rootfs;
  spec.args = {"/bin/sh", "-c",
               "bb=/bin/busybox; echo \"$GREETING from $($bb hostname)\" > /shared/report.tmp; "
               "if $bb touch /root-write 2>/dev/null; then echo root rw; else echo root ro; fi "
               ">> /shared/report.tmp; "
               "if $bb touch /ro/x 2>/dev/null; then echo ro rw; else echo ro ro; fi "
               ">> /shared/report.tmp; "
               "$bb mv /shared/report.tmp /shared/report; read line < /shared/go; exit 7"};
  spec.env = {{"GREETING", "hello"}};
  spec.mounts = {{shared, "/shared", false}, {shared, "/ro", true}};
  // No cgroupsPath: runc's default place, which the test checks is gone afterwards.
  Result<std::string> config = makeOciConfig(spec, {"oci-test", "", ""});
  REQUIRE_MESSAGE(config.ok(), config.error().message);
  writeFile(bundle + "/config.json", *config);

  const std::string id = "vigie-oci-" + std::to_string(::getpid());
  const std::string state = dir.file("state");
  {
    ContainerCleanup cleanup(dir, runc, state, id);
    DaemonProcess::Options options;
    options.program = runc;
    options.args = {"--root", state, "run", "--bundle", bundle, id};
    DaemonProcess container(dir, std::move(options));
    const bool reported = pollUntil(
        [&] { return std::filesystem::exists(shared + "/report") || !container.running(); }, 60s);
    CAPTURE(container.stderrText());
    REQUIRE(reported);
    CHECK(readLines(shared + "/report") ==
          std::vector<std::string>{"hello from oci-test", "root ro", "ro ro"});
    CHECK(cgroupNamed(id));
    // The reader has the FIFO open once a non-blocking open for writing succeeds.
    UniqueFd go;
    REQUIRE(pollUntil([&] {
      go = UniqueFd(::open((shared + "/go").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
      return go.valid() || !container.running();
    }));
    REQUIRE(go.valid());
    REQUIRE(::write(go.get(), "go\n", 3) == 3);
    go.reset();
    REQUIRE(container.waitExit(60s));
    CHECK(container.exitCode() == 7);
  }
  CHECK(pollUntil([&] { return !cgroupNamed(id); }));
}

}  // namespace
}  // namespace vigie::testing
