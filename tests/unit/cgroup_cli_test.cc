// `vigiectl unit show` with what a unit's cgroup saw per instance.
#include <doctest/doctest.h>

#include <string>

#include "agent/cli/node_details.h"
#include "agent/cli/unit_details.h"

namespace vigie::cli {
namespace {

TEST_CASE("cgroup cli: unit show gives each ended instance's cgroup stats") {
  v1::GetUnitResponse response;
  v1::Unit* unit = response.mutable_unit();
  unit->set_name("hog");
  unit->set_state(v1::UNIT_STATE_EXITED);
  v1::Instance* hogged = unit->add_instances();
  hogged->set_id(1);
  hogged->set_pid(100);
  v1::ExitDetails* oom = hogged->mutable_exit();
  oom->set_kind(v1::EXIT_KIND_KILLED);
  oom->set_signal(9);
  oom->set_reason(v1::EXIT_REASON_OOM_KILLED);
  oom->set_description("signal SIGKILL (oom-killed)");
  oom->mutable_cgroup()->set_memory_peak_bytes(uint64_t{32} << 20);
  oom->mutable_cgroup()->mutable_cpu_time()->set_nanos(250'000'000);
  oom->mutable_cgroup()->set_oom_kills(1);
  v1::Instance* clean = unit->add_instances();
  clean->set_id(2);
  clean->set_pid(101);
  clean->mutable_exit()->set_kind(v1::EXIT_KIND_EXITED);
  clean->mutable_exit()->mutable_cgroup()->set_oom_kills(0);
  v1::Instance* plain = unit->add_instances();  // a unit without a cgroup shows no line.
  plain->set_id(3);
  plain->set_pid(102);
  plain->mutable_exit()->set_kind(v1::EXIT_KIND_EXITED);

  const std::string text = renderUnitDetails(response, WallTime{}, false);
  CAPTURE(text);
  CHECK(text.find("signal SIGKILL (oom-killed)") != std::string::npos);
  CHECK(text.find("  instance 1 cgroup: memory peak 32.0 MiB, CPU 250ms, 1 OOM kill\n") !=
        std::string::npos);
  CHECK(text.find("  instance 2 cgroup: 0 OOM kills\n") != std::string::npos);
  CHECK(text.find("instance 3 cgroup") == std::string::npos);
}

TEST_CASE("cgroup cli: node shows where units' cgroups are, or that there are none") {
  v1::GetNodeResponse response;
  response.mutable_node()->set_cgroup_layout(v1::CGROUP_LAYOUT_UNIFIED);
  CHECK(renderNode(response, WallTime{})
            .find("Unit cgroup: none (the agent runs without cgroups)\n") != std::string::npos);
  response.mutable_node()->set_unit_cgroups("unified (v2); units under 0::/vigie");
  CHECK(
      renderNode(response, WallTime{}).find("Unit cgroup: unified (v2); units under 0::/vigie\n") !=
      std::string::npos);
}

}  // namespace
}  // namespace vigie::cli
