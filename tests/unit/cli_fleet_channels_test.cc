// The fleet poller's channels: unix targets need no TLS flag; host:port targets need a client
// certificate, and an unreadable PEM file is named with its flag.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "agent/cli/fleet_channels.h"
#include "tests/fakes/temp_dir.h"

namespace vigie::cli {
namespace {

const FleetTarget kUnix{"local", "unix:/run/vigie/vigie.sock", true};
const FleetTarget kTcp{"remote", "10.0.0.5:7443", false};

TEST_CASE("fleet channels: unix targets need no TLS files") {
  const auto channels = FleetChannelFactory::create({kUnix}, FleetTlsFiles{}, 2s);
  REQUIRE(channels);
  CHECK(channels->channel(kUnix) != nullptr);
}

TEST_CASE("fleet channels: host:port targets need a client certificate and its key") {
  const auto channels = FleetChannelFactory::create({kUnix, kTcp}, FleetTlsFiles{}, 2s);
  REQUIRE_FALSE(channels);
  CHECK(channels.error().message.find("--tls-cert and --tls-key") != std::string::npos);
}

TEST_CASE("fleet channels: an unreadable PEM file is named with its flag") {
  testing::TempDir dir("fleet-channels");
  const std::string cert = dir.write("client.crt", "-----BEGIN CERTIFICATE-----\n");
  const auto channels = FleetChannelFactory::create(
      {kTcp}, FleetTlsFiles{cert, dir.path() + "/missing.key", "", ""}, 2s);
  REQUIRE_FALSE(channels);
  CHECK(channels.error().message.find("--tls-key " + dir.path() + "/missing.key") !=
        std::string::npos);
  CHECK(channels.error().message.find("No such file") != std::string::npos);
}

TEST_CASE("fleet channels: with readable files, every target gets a channel") {
  testing::TempDir dir("fleet-channels");
  const std::string cert = dir.write("client.crt", "not checked until the handshake\n");
  const std::string key = dir.write("client.key", "not checked until the handshake\n");
  const auto channels =
      FleetChannelFactory::create({kUnix, kTcp}, FleetTlsFiles{cert, key, "", "agents"}, 2s);
  REQUIRE(channels);
  CHECK(channels->channel(kTcp) != nullptr);
  CHECK(channels->channel(kUnix) != nullptr);
}

}  // namespace
}  // namespace vigie::cli
