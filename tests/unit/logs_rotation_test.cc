#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "agent/logs/journal_sink.h"
#include "agent/logs/log_router.h"
#include "agent/logs/rotating_file.h"
#include "tests/fakes/temp_dir.h"

namespace vigie {
namespace {

namespace fs = std::filesystem;

class TempDir : public testing::TempDir {
 public:
  TempDir() : testing::TempDir("vigie-logs") {}
};

class NoJournal final : public JournalSink {
 public:
  Status send(const JournalFields&) override { return Status::okStatus(); }
};

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<std::string> listDir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Lines of varied lengths, some longer than a whole file, some without their newline yet.
std::string chunk(int i) {
  if (i % 17 == 0) {
    return std::string(static_cast<size_t>(150 + i % 7), static_cast<char>('a' + i % 26));
  }
  std::string line = "line " + std::to_string(i) + std::string(static_cast<size_t>(i % 23), '.');
  return i % 5 == 0 ? line : line + "\n";
}

// Every kept file is within max_size, at most max_files exist, and read oldest to newest they
// are exactly the end of what was written.
void checkRotatedSet(const std::string& dir, const std::string& written, uint64_t max_size,
                     uint32_t max_files) {
  const std::vector<std::string> names = listDir(dir);
  REQUIRE(names.size() <= max_files);
  std::string kept;
  for (uint32_t index = max_files - 1; index >= 1; --index) {
    const std::string path = dir + "/stdout.log." + std::to_string(index);
    if (fs::exists(path)) {
      CHECK(fs::file_size(path) <= max_size);
      CHECK(fs::file_size(path) > 0);
      kept += readFile(path);
    }
  }
  const std::string live = dir + "/stdout.log";
  REQUIRE(fs::exists(live));
  CHECK(fs::file_size(live) <= max_size);
  kept += readFile(live);
  for (const std::string& name : names) {
    const bool known = name == "stdout.log" || name.rfind("stdout.log.", 0) == 0;
    CHECK_MESSAGE(known, name);
  }
  REQUIRE(kept.size() <= written.size());
  CHECK(written.compare(written.size() - kept.size(), kept.size(), kept) == 0);
}

TEST_CASE("rotation keeps at most max_files files of at most max_size bytes, newest live") {
  TempDir tmp;
  constexpr uint64_t kMaxSize = 100;
  constexpr uint32_t kMaxFiles = 3;
  RotatingFile file(tmp.path(), "stdout", {kMaxSize, kMaxFiles});
  std::string written;
  uint64_t rotations = 0;
  for (int i = 0; i < 400; ++i) {
    const std::string data = chunk(i);
    const RotatingFile::Outcome outcome = file.append(data);
    REQUIRE_FALSE(outcome.error.has_value());
    CHECK(outcome.bytes_written == data.size());
    rotations += outcome.rotations;
    written += data;
    checkRotatedSet(tmp.path(), written, kMaxSize, kMaxFiles);
  }
  CHECK(rotations > 10);
  // The last data written is at the end of the live file.
  const std::string live = readFile(tmp.path() + "/stdout.log");
  CHECK(written.substr(written.size() - live.size()) == live);
}

TEST_CASE("rotation keeps whole lines in a file when they fit, and cuts only longer ones") {
  TempDir tmp;
  RotatingFile file(tmp.path(), "stdout", {10, 3});
  REQUIRE_FALSE(file.append("aaaa\nbbbb\ncc").error);
  CHECK(readFile(tmp.path() + "/stdout.log.1") == "aaaa\nbbbb\n");
  CHECK(readFile(tmp.path() + "/stdout.log") == "cc");
  REQUIRE_FALSE(file.append("0123456789abcdefghijklmno\n").error);
  CHECK(readFile(tmp.path() + "/stdout.log.2") == "0123456789");
  CHECK(readFile(tmp.path() + "/stdout.log.1") == "abcdefghij");
  CHECK(readFile(tmp.path() + "/stdout.log") == "klmno\n");
  CHECK(listDir(tmp.path()).size() == 3);
}

TEST_CASE("rotation with max_files 1 keeps only the live file") {
  TempDir tmp;
  RotatingFile file(tmp.path(), "stdout", {8, 1});
  for (int i = 0; i < 20; ++i) {
    REQUIRE_FALSE(file.append("abc\n").error);
  }
  CHECK(listDir(tmp.path()) == std::vector<std::string>{"stdout.log"});
  CHECK(readFile(tmp.path() + "/stdout.log") == "abc\nabc\n");
}

TEST_CASE("rotation drops files beyond a lowered max_files") {
  TempDir tmp;
  RotatingFile file(tmp.path(), "stdout", {4, 5});
  for (int i = 0; i < 10; ++i) {
    REQUIRE_FALSE(file.append("abc\n").error);
  }
  CHECK(listDir(tmp.path()).size() == 5);
  file.setLimits({4, 2});
  REQUIRE_FALSE(file.append("xyz\n").error);
  CHECK(listDir(tmp.path()) == std::vector<std::string>{"stdout.log", "stdout.log.1"});
}

TEST_CASE("a reopened log file continues where the previous run stopped") {
  TempDir tmp;
  {
    RotatingFile file(tmp.path(), "stdout", {10, 2});
    REQUIRE_FALSE(file.append("1234567").error);
  }
  RotatingFile file(tmp.path(), "stdout", {10, 2});
  REQUIRE_FALSE(file.append("abcd").error);  // 7 + 4 > 10: rotates first.
  CHECK_FALSE(file.atLineStart());
  CHECK(readFile(tmp.path() + "/stdout.log.1") == "1234567");
  CHECK(readFile(tmp.path() + "/stdout.log") == "abcd");
}

TEST_CASE("log router rotates each unit's files within their limits") {
  TempDir tmp;
  NoJournal journal;
  LogRouterOptions options;
  options.budget_interval = 0s;
  LogRouter router(tmp.path(), StorageSpec{}, journal, false, options);
  OutputSpec spec;
  spec.file.max_size = 200;
  spec.file.max_files = 4;
  auto output = router.open("web", spec);
  std::string written;
  for (int i = 0; i < 500; ++i) {
    const std::string data = chunk(i);
    output->write(OutputStream::kStdout, 1, data);
    written += data;
    if (i % 50 == 0) {
      router.waitIdleForTest();
      checkRotatedSet(router.unitLogDir("web"), written, 200, 4);
    }
  }
  router.waitIdleForTest();
  checkRotatedSet(router.unitLogDir("web"), written, 200, 4);
  const std::optional<OutputCounters> counters = router.unitCounters("web");
  REQUIRE(counters.has_value());
  CHECK(counters->bytes_written == written.size());
  CHECK(counters->rotations > 0);
  CHECK(counters->write_errors == 0);
  CHECK(counters->bytes_dropped == 0);
}

TEST_CASE("log router writes instance markers into both files, on a line of their own") {
  TempDir tmp;
  NoJournal journal;
  LogRouter router(tmp.path(), StorageSpec{}, journal, false);
  auto output = router.open("web", OutputSpec{});
  output->instanceStarted(1, 100);
  output->write(OutputStream::kStdout, 1, "a\n");
  output->write(OutputStream::kStderr, 1, "partial");
  output->instanceStarted(2, 200);
  output->write(OutputStream::kStdout, 2, "b\n");
  router.waitIdleForTest();
  const std::string dir = router.unitLogDir("web");
  CHECK(readFile(dir + "/stdout.log") ==
        "-- vigie: instance 1 started, pid 100 --\na\n"
        "-- vigie: instance 2 started, pid 200 --\nb\n");
  CHECK(readFile(dir + "/stderr.log") ==
        "-- vigie: instance 1 started, pid 100 --\npartial\n"
        "-- vigie: instance 2 started, pid 200 --\n");
}

TEST_CASE("log router writes no files when output.file is disabled") {
  TempDir tmp;
  NoJournal journal;
  LogRouter router(tmp.path(), StorageSpec{}, journal, false);
  OutputSpec spec;
  spec.file.enabled = false;
  auto output = router.open("quiet", spec);
  output->instanceStarted(1, 100);
  output->write(OutputStream::kStdout, 1, "nothing\n");
  router.waitIdleForTest();
  CHECK_FALSE(fs::exists(router.unitLogDir("quiet")));
}

TEST_CASE("log router writes nothing for a unit name that is not a plain file name") {
  TempDir tmp;
  NoJournal journal;
  LogRouter router(tmp.path() + "/state", StorageSpec{}, journal, false);
  for (const char* name : {"../escape", "a/b", "..", ""}) {
    auto output = router.open(name, OutputSpec{});
    output->write(OutputStream::kStdout, 1, "nowhere\n");
  }
  router.waitIdleForTest();
  CHECK(listDir(tmp.path()).empty());  // not even the state dir: nothing was written.
  CHECK(router.unitCounters().empty());
}

}  // namespace
}  // namespace vigie
