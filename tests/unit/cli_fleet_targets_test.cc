// The targets file of `vigiectl fleet`: addresses, names, comments, and every error with its
// line.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "agent/cli/fleet_targets.h"

namespace vigie::cli {
namespace {

TEST_CASE("fleet targets: addresses, optional names, comments and blank lines") {
  const FleetTargetsParse parsed = parseFleetTargets(
      "# the rack\n"
      "unix:/run/vigie/vigie.sock   local\n"
      "\n"
      "  10.0.0.5:7443 rack1-node5   # trailing comment\n"
      "[fd00::5]:7443\r\n"
      "node-b.example.com:7443\tnode-b\n",
      "fleet.txt");
  REQUIRE(parsed.ok());
  REQUIRE(parsed.targets.size() == 4);
  CHECK(parsed.targets[0] == FleetTarget{"local", "unix:/run/vigie/vigie.sock", true});
  CHECK(parsed.targets[1] == FleetTarget{"rack1-node5", "10.0.0.5:7443", false});
  CHECK(parsed.targets[2] == FleetTarget{"[fd00::5]:7443", "[fd00::5]:7443", false});
  CHECK(parsed.targets[3] == FleetTarget{"node-b", "node-b.example.com:7443", false});
}

TEST_CASE("fleet targets: every bad line is reported with its line number") {
  const FleetTargetsParse parsed = parseFleetTargets(
      "unix:relative.sock\n"  // 1
      "host-without-port\n"   // 2
      "host:99999\n"          // 3
      ":7443\n"               // 4
      "fd00::5:7443\n"        // 5
      "a:1 name extra\n"      // 6
      "b:2 same\n"            // 7
      "c:3 same\n"            // 8
      "b:2 other\n"           // 9
      "unix:/ok.sock\n",      // 10
      "fleet.txt");
  REQUIRE(parsed.errors.size() == 8);
  CHECK(parsed.errors[0].rfind("fleet.txt:1: ", 0) == 0);
  CHECK(parsed.errors[0].find("absolute path") != std::string::npos);
  CHECK(parsed.errors[1].rfind("fleet.txt:2: ", 0) == 0);
  CHECK(parsed.errors[1].find("host:port") != std::string::npos);
  CHECK(parsed.errors[2].find("1 to 65535") != std::string::npos);
  CHECK(parsed.errors[3].find("host is missing") != std::string::npos);
  CHECK(parsed.errors[4].find("brackets") != std::string::npos);
  CHECK(parsed.errors[5].find("ADDRESS [NAME]") != std::string::npos);
  CHECK(parsed.errors[6].rfind("fleet.txt:8: ", 0) == 0);
  CHECK(parsed.errors[6].find("\"same\" is used twice") != std::string::npos);
  CHECK(parsed.errors[7].rfind("fleet.txt:9: ", 0) == 0);
  CHECK(parsed.errors[7].find("listed twice") != std::string::npos);
  // The good lines are still there, for a caller that wants to say more.
  REQUIRE(parsed.targets.size() == 2);
  CHECK(parsed.targets[1].address == "unix:/ok.sock");
}

TEST_CASE("fleet targets: a file with no target is an error") {
  const FleetTargetsParse parsed = parseFleetTargets("# nothing yet\n\n", "empty.txt");
  REQUIRE(parsed.errors.size() == 1);
  CHECK(parsed.errors[0].find("no targets") != std::string::npos);
}

TEST_CASE("fleet targets: a missing file says which and why") {
  const FleetTargetsParse parsed = loadFleetTargets("/nonexistent/fleet.txt");
  REQUIRE(parsed.errors.size() == 1);
  CHECK(parsed.errors[0].find("/nonexistent/fleet.txt") != std::string::npos);
  CHECK(parsed.errors[0].find("No such file") != std::string::npos);
}

}  // namespace
}  // namespace vigie::cli
