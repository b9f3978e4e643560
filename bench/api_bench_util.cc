#include "api_bench_util.h"

#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

extern char** environ;  // NOLINT(readability-identifier-naming): POSIX name.

namespace vigie::bench {

int64_t monoNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

void sleepNs(int64_t ns) {
  timespec ts{};
  ts.tv_sec = ns / 1'000'000'000;
  ts.tv_nsec = ns % 1'000'000'000;
  nanosleep(&ts, nullptr);
}

double cpuSeconds(const rusage& usage) {
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

int64_t percentile(std::vector<int64_t> samples, double percent) {
  if (samples.empty()) {
    return 0;
  }
  std::sort(samples.begin(), samples.end());
  auto rank = static_cast<size_t>(std::ceil(percent / 100.0 * static_cast<double>(samples.size())));
  rank = std::clamp<size_t>(rank, 1, samples.size());
  return samples[rank - 1];
}

Result<WorkDir> WorkDir::create(const std::string& prefix, bool keep) {
  std::string pattern = "/tmp/" + prefix + ".XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return Error::fromErrno("mkdtemp " + pattern);
  }
  return WorkDir(std::move(pattern), keep);
}

WorkDir::WorkDir(WorkDir&& other) noexcept
    : path_(std::exchange(other.path_, std::string())), keep_(other.keep_) {}

WorkDir::~WorkDir() {
  if (path_.empty()) {
    return;
  }
  if (keep_) {
    std::fprintf(stderr, "work files kept in %s\n", path_.c_str());
    return;
  }
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

Result<BenchCertificates> makeCertificates(const std::string& dir, const std::string& client) {
  const std::string script = R"sh(set -e
cd ")sh" + dir + R"sh("
openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
  -keyout ca.key -out ca.crt -subj /CN=bench-ca -days 2 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
leaf() {  # name, subject, extensions
  printf '%s\n' "$3" > "$1.ext"
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$1.key" -out "$1.csr" -subj "$2"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile "$1.ext" -out "$1.crt"
}
leaf server /CN=localhost \
  "$(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth')"
leaf client "/CN=)sh" + client +
                             R"sh(" 'extendedKeyUsage=clientAuth'
)sh";
  const std::string log = dir + "/openssl.log";
  const std::string command = "(" + script + ") >" + log + " 2>&1";
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  pid_t pid = 0;
  if (const int rc =
          posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ);
      rc != 0) {
    return Error::fromErrno("posix_spawn /bin/sh", rc);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return Error::fromErrno("waitpid");
    }
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Error{"openssl failed (is it installed?):\n" + readWholeFile(log)};
  }
  return BenchCertificates{dir + "/ca.crt", dir + "/server.crt", dir + "/server.key",
                           dir + "/client.crt", dir + "/client.key"};
}

std::string readWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Status writeWholeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    return Error{"cannot write " + path};
  }
  return Status::okStatus();
}

std::string besideSelf(const std::string& name) {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) {
    return name;
  }
  return (self.parent_path() / name).string();
}

std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  std::string five;
  std::string fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

std::string yamlQuote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

std::string logTail(const std::string& path, size_t max_lines) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (lines.size() > max_lines) {
      lines.pop_front();
    }
  }
  std::string out;
  for (const std::string& kept : lines) {
    out += "    " + kept + "\n";
  }
  return out.empty() ? "    (empty)\n" : out;
}

bool runsBinary(pid_t pid, const struct stat& binary) {
  struct stat exe {};
  const std::string link = "/proc/" + std::to_string(pid) + "/exe";
  if (pid <= 1 || stat(link.c_str(), &exe) != 0) {
    return false;
  }
  return exe.st_dev == binary.st_dev && exe.st_ino == binary.st_ino;
}

}  // namespace vigie::bench
