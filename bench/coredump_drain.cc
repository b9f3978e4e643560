// coredump_drain [--mb N] [--dir DIR] [--level L] [--repeat R]: vigie-coredump's two
// throughputs, in-process. Drain: a writer thread pushes N MB of core-like data into a pipe (as
// the kernel does), drainCore() splices it into an unnamed file in DIR. Compression: that file
// through compressZstd() at level L. Prints MB/s per repeat and the median. See bench/README.md.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "agent/coredump/compressor.h"
#include "agent/coredump/core_drain.h"
#include "agent/os/unique_fd.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// The same pattern as tests/helpers/crashers/bigmem: neither zeros nor noise.
std::vector<char> coreLikeChunk(size_t bytes) {
  std::vector<char> chunk(bytes, 0);
  for (size_t i = 0; i < bytes; i += 64) {
    chunk[i] = static_cast<char>((i >> 12) * 31 + (i >> 6));
  }
  return chunk;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t megabytes = 256;
  std::string dir = "/var/tmp";
  int level = 1;
  int repeat = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--mb") {
      megabytes = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (flag == "--dir") {
      dir = argv[i + 1];
    } else if (flag == "--level") {
      level = std::atoi(argv[i + 1]);
    } else if (flag == "--repeat") {
      repeat = std::max(1, std::atoi(argv[i + 1]));
    } else {
      std::fprintf(stderr, "usage: coredump_drain [--mb N] [--dir DIR] [--level L] [--repeat R]\n");
      return 2;
    }
  }
  const uint64_t total = megabytes << 20;
  {
    std::FILE* load = std::fopen("/proc/loadavg", "r");
    char text[128] = "?";
    if (load != nullptr) {
      (void)!std::fgets(text, sizeof(text), load);
      std::fclose(load);
    }
    std::printf("coredump_drain: %llu MB into %s, zstd-%d, load %s",
                static_cast<unsigned long long>(megabytes), dir.c_str(), level, text);
  }
  const std::vector<char> chunk = coreLikeChunk(1 << 20);
  std::vector<double> drain_rates, compress_rates;
  double ratio = 0;
  for (int run = 1; run <= repeat; ++run) {
    vigie::UniqueFd file(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    if (!file) {
      std::perror(("coredump_drain: O_TMPFILE in " + dir).c_str());
      return 1;
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      std::perror("coredump_drain: pipe");
      return 1;
    }
    vigie::UniqueFd read_end(fds[0]);
    (void)::fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
    const auto start = Clock::now();
    std::thread writer([fd = fds[1], total, &chunk] {
      uint64_t done = 0;
      while (done < total) {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(chunk.size(), total - done));
        const ssize_t n = ::write(fd, chunk.data(), want);
        if (n <= 0) {
          break;
        }
        done += static_cast<uint64_t>(n);
      }
      ::close(fd);
    });
    vigie::coredump::DrainPlan plan;
    plan.limit = total;
    const auto drained = vigie::coredump::drainCore(read_end.get(), file.get(), plan);
    const double drain_s = seconds(Clock::now() - start);
    writer.join();
    if (drained.error || drained.received != total) {
      std::fprintf(stderr, "coredump_drain: drain failed (%s, %llu bytes)\n",
                   drained.error ? drained.error->c_str() : "short",
                   static_cast<unsigned long long>(drained.received));
      return 1;
    }
    vigie::UniqueFd out(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    const auto compress_start = Clock::now();
    const auto compressed = vigie::coredump::compressZstd(file.get(), total, out.get(), level,
                                                          Clock::now() + std::chrono::hours(1));
    const double compress_s = seconds(Clock::now() - compress_start);
    if (!compressed.ok()) {
      std::fprintf(stderr, "coredump_drain: compression failed\n");
      return 1;
    }
    drain_rates.push_back(static_cast<double>(megabytes) / drain_s);
    compress_rates.push_back(static_cast<double>(megabytes) / compress_s);
    ratio = static_cast<double>(compressed.bytes_in) / static_cast<double>(compressed.bytes_out);
    std::printf("run %d/%d  drain %7.1f MB/s (%.3f s)  zstd-%d %7.1f MB/s (%.3f s, %.0fx)\n", run,
                repeat, drain_rates.back(), drain_s, level, compress_rates.back(), compress_s,
                ratio);
  }
  std::printf(
      "summary: %llu MB into %s: drain median %.1f MB/s, zstd-%d median %.1f MB/s, "
      "ratio %.0fx\n",
      static_cast<unsigned long long>(megabytes), dir.c_str(), median(drain_rates), level,
      median(compress_rates), ratio);
  // What these rates mean for a crash of that size: the drain is what its restart waits for,
  // the compression runs after it (next to the symbolizer).
  const double drain_ms = static_cast<double>(megabytes) / median(drain_rates) * 1e3;
  const double compress_ms = static_cast<double>(megabytes) / median(compress_rates) * 1e3;
  std::printf(
      "a %llu MB core: drain %.0f ms (added to its restart), compression %.0f ms after it; "
      "compression / drain = %.2f\n",
      static_cast<unsigned long long>(megabytes), drain_ms, compress_ms, compress_ms / drain_ms);
  return 0;
}
