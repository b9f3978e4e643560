// The /proc parsers behind the node's usage gauges, and the reader on a fake /proc.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/api/proc_usage.h"

namespace vigie {
namespace {

TEST_CASE("api usage: /proc/uptime and /proc/loadavg") {
  auto uptime = parseUptime("12345.67 2345.00\n");
  REQUIRE(uptime.has_value());
  CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(*uptime).count() == 12345670);
  CHECK_FALSE(parseUptime("").has_value());

  auto load = parseLoadavg("0.52 0.58 0.59 2/311 12345\n");
  REQUIRE(load.has_value());
  CHECK(load->one == doctest::Approx(0.52));
  CHECK(load->fifteen == doctest::Approx(0.59));
  CHECK_FALSE(parseLoadavg("garbage").has_value());
}

TEST_CASE("api usage: /proc/meminfo") {
  auto memory = parseMeminfo(
      "MemTotal:       16384000 kB\n"
      "MemFree:         1000000 kB\n"
      "MemAvailable:    8192000 kB\n"
      "SwapTotal:       2048000 kB\n"
      "SwapFree:        1024000 kB\n"
      "HugePages_Total:       0\n");
  REQUIRE(memory.has_value());
  CHECK(memory->total_bytes == 16384000ULL * 1024);
  CHECK(memory->available_bytes == 8192000ULL * 1024);
  CHECK(memory->swap_total_bytes == 2048000ULL * 1024);
  CHECK(memory->swap_free_bytes == 1024000ULL * 1024);
  CHECK_FALSE(parseMeminfo("MemTotal: 1 kB\n").has_value());  // no MemAvailable
}

TEST_CASE("api usage: /proc/pressure, with and without a full line") {
  auto memory = parsePressure(
      "some avg10=1.50 avg60=0.75 avg300=0.10 total=123456\n"
      "full avg10=0.50 avg60=0.25 avg300=0.00 total=6543\n");
  REQUIRE(memory.has_value());
  CHECK(memory->some.avg10 == doctest::Approx(1.5));
  CHECK(memory->some.total == std::chrono::microseconds(123456));
  REQUIRE(memory->full.has_value());
  CHECK(memory->full->avg60 == doctest::Approx(0.25));

  auto cpu = parsePressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  REQUIRE(cpu.has_value());
  CHECK_FALSE(cpu->full.has_value());
  CHECK_FALSE(parsePressure("some avg10=x\n").has_value());
}

TEST_CASE("api usage: the reader samples what exists and leaves the rest unset") {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("vigie-proc-" + std::to_string(getpid()));
  fs::create_directories(root / "pressure");
  std::ofstream(root / "uptime") << "100.50 80.00\n";
  std::ofstream(root / "loadavg") << "1.00 2.00 3.00 1/100 42\n";
  std::ofstream(root / "pressure" / "io") << "some avg10=2.00 avg60=1.00 avg300=0.50 total=99\n"
                                             "full avg10=1.00 avg60=0.50 avg300=0.25 total=9\n";

  ProcUsageReader reader(root.string(), root.string());
  const UsageSample sample = reader.sample();
  CHECK(sample.uptime.has_value());
  REQUIRE(sample.load.has_value());
  CHECK(sample.load->five == doctest::Approx(2.0));
  CHECK_FALSE(sample.memory.has_value());  // no meminfo in this /proc
  CHECK_FALSE(sample.cpu_pressure.has_value());
  REQUIRE(sample.io_pressure.has_value());
  CHECK(sample.io_pressure->full.has_value());
  REQUIRE(sample.state_disk.has_value());
  CHECK(sample.state_disk->total_bytes > 0);
  fs::remove_all(root);
}

}  // namespace
}  // namespace vigie
