#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "agent/logs/disk_budget.h"
#include "agent/logs/journal_sink.h"
#include "agent/logs/log_router.h"
#include "tests/fakes/temp_dir.h"

namespace vigie {
namespace {

namespace fs = std::filesystem;

class TempDir : public testing::TempDir {
 public:
  TempDir() : testing::TempDir("vigie-budget") {}
};

class NoJournal final : public JournalSink {
 public:
  Status send(const JournalFields&) override { return Status::okStatus(); }
};

constexpr uint64_t kKiB = 1024;

// A file of `size` bytes whose mtime is `age_seconds` in the past.
void makeFile(const std::string& path, uint64_t size, int age_seconds) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << std::string(size, 'x');
  const fs::file_time_type now = fs::file_time_type::clock::now();
  fs::last_write_time(path, now - std::chrono::seconds(age_seconds));
}

// Under the state dir: two units' logs (live and rotated) and a file nobody offers for deletion.
struct StateDir {
  TempDir tmp;
  std::string a_live = tmp.path() + "/logs/a/stdout.log";
  std::string a_1 = tmp.path() + "/logs/a/stdout.log.1";
  std::string a_2 = tmp.path() + "/logs/a/stdout.log.2";
  std::string b_live = tmp.path() + "/logs/b/stderr.log";
  std::string b_1 = tmp.path() + "/logs/b/stderr.log.1";
  std::string other = tmp.path() + "/crash/record.json";

  StateDir() {
    makeFile(a_live, 4 * kKiB, 0);
    makeFile(a_1, 4 * kKiB, 10);
    makeFile(a_2, 4 * kKiB, 30);
    makeFile(b_live, 4 * kKiB, 0);
    makeFile(b_1, 4 * kKiB, 20);
    makeFile(other, 4 * kKiB, 100);  // the oldest, but not deletable.
  }
};

Result<uint64_t> plentyFree(const std::string&) {
  return uint64_t{1} << 40;
}

TEST_CASE("disk budget: measures the state dir and finds only rotated logs") {
  StateDir state;
  CHECK(DiskBudget::usedBytes(state.tmp.path()) == 24 * kKiB);
  std::vector<std::string> paths;
  for (const BudgetCandidate& candidate : DiskBudget::rotatedLogs(state.tmp.path() + "/logs")) {
    paths.push_back(candidate.path);
    CHECK(candidate.size == 4 * kKiB);
  }
  std::sort(paths.begin(), paths.end());
  CHECK(paths == std::vector<std::string>{state.a_1, state.a_2, state.b_1});
}

TEST_CASE("disk budget: over max_use, the oldest rotated files go first") {
  StateDir state;
  DiskBudget budget(state.tmp.path(), StorageSpec{16 * kKiB, 0}, plentyFree);
  const DiskBudget::Outcome outcome = budget.enforce();
  CHECK(outcome.met);
  CHECK(outcome.files_deleted == 2);
  CHECK(outcome.bytes_deleted == 8 * kKiB);
  CHECK(outcome.used_bytes == 16 * kKiB);
  CHECK_FALSE(fs::exists(state.a_2));  // 30 s old
  CHECK_FALSE(fs::exists(state.b_1));  // 20 s old
  CHECK(fs::exists(state.a_1));        // 10 s old: the budget was met before it.
  CHECK(fs::exists(state.a_live));
  CHECK(fs::exists(state.b_live));
  CHECK(fs::exists(state.other));
  CHECK(budget.enforce().files_deleted == 0);  // within budget now.
}

TEST_CASE("disk budget: never deletes live files, and says once that it cannot be met") {
  StateDir state;
  std::ostringstream log;
  auto logger = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  DiskBudget budget(state.tmp.path(), StorageSpec{1 * kKiB, 0}, plentyFree, logger);
  DiskBudget::Outcome outcome = budget.enforce();
  CHECK_FALSE(outcome.met);
  CHECK(outcome.files_deleted == 3);
  CHECK(outcome.used_bytes == 12 * kKiB);
  CHECK(fs::exists(state.a_live));
  CHECK(fs::exists(state.b_live));
  CHECK(fs::exists(state.other));
  CHECK_FALSE(budget.enforce().met);
  auto count = [&] {
    const std::string text = log.str();
    size_t found = 0;
    for (size_t at = text.find("cannot be met"); at != std::string::npos;
         at = text.find("cannot be met", at + 1)) {
      ++found;
    }
    return found;
  };
  CHECK(count() == 1);
  budget.setSpec(StorageSpec{1024 * kKiB, 0});
  CHECK(budget.enforce().met);
  budget.setSpec(StorageSpec{1 * kKiB, 0});
  CHECK_FALSE(budget.enforce().met);
  CHECK(count() == 2);  // met in between: a new episode.
}

TEST_CASE("disk budget: below keep_free, rotated files go until enough is free") {
  StateDir state;
  // A 32 KiB disk holding only the state dir: free = 32 KiB - used.
  const std::string root = state.tmp.path();
  auto free_bytes = [root](const std::string&) -> Result<uint64_t> {
    return 32 * kKiB - DiskBudget::usedBytes(root);
  };
  DiskBudget budget(root, StorageSpec{1024 * kKiB, 14 * kKiB}, free_bytes);
  const DiskBudget::Outcome outcome = budget.enforce();
  CHECK(outcome.met);
  CHECK(outcome.files_deleted == 2);  // 8 free -> 12 -> 16 >= 14.
  CHECK(outcome.free_bytes == 16 * kKiB);
  CHECK_FALSE(fs::exists(state.a_2));
  CHECK_FALSE(fs::exists(state.b_1));
  CHECK(fs::exists(state.a_1));
}

TEST_CASE("disk budget: an unknown free space enforces max_use only") {
  StateDir state;
  auto failing = [](const std::string&) -> Result<uint64_t> { return Error{"statvfs: EIO", EIO}; };
  DiskBudget budget(state.tmp.path(), StorageSpec{1024 * kKiB, 1024 * kKiB}, failing);
  const DiskBudget::Outcome outcome = budget.enforce();
  CHECK(outcome.met);
  CHECK(outcome.files_deleted == 0);
}

TEST_CASE("disk budget: other sources (the crash spool) compete by age with rotated logs") {
  StateDir state;
  DiskBudget budget(state.tmp.path(), StorageSpec{20 * kKiB, 0}, plentyFree);
  const std::string other = state.other;
  budget.addSource([other] {
    struct stat st {};
    REQUIRE(::stat(other.c_str(), &st) == 0);
    return std::vector<BudgetCandidate>{BudgetCandidate{
        other, int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec, 4 * kKiB}};
  });
  const DiskBudget::Outcome outcome = budget.enforce();
  CHECK(outcome.files_deleted == 1);
  CHECK_FALSE(fs::exists(state.other));  // the oldest of all.
  CHECK(fs::exists(state.a_2));
}

TEST_CASE("log router: rotations trigger the disk budget, which keeps live files") {
  TempDir tmp;
  NoJournal journal;
  LogRouterOptions options;
  options.budget_interval = 0s;
  options.free_bytes = plentyFree;
  LogRouter router(tmp.path(), StorageSpec{2 * kKiB, 0}, journal, false, options);
  OutputSpec spec;
  spec.file.max_size = 512;
  spec.file.max_files = 3;
  auto web = router.open("web", spec);
  auto db = router.open("db", spec);
  const std::string line(63, 'x');
  for (int i = 0; i < 200; ++i) {
    web->write(OutputStream::kStdout, 1, line + "\n");
    db->write(OutputStream::kStderr, 1, line + "\n");
    if (i % 20 == 0) {
      router.waitIdleForTest();
    }
  }
  router.waitIdleForTest();
  CHECK(router.counters().budget_files_deleted > 0);
  // The budget runs after rotations: live files may have grown since the last one.
  CHECK(DiskBudget::usedBytes(tmp.path()) <= 2 * kKiB + 2 * spec.file.max_size);
  router.requestBudgetCheck();
  router.waitIdleForTest();
  CHECK(DiskBudget::usedBytes(tmp.path()) <= 2 * kKiB);
  CHECK(fs::exists(router.unitLogDir("web") + "/stdout.log"));
  CHECK(fs::exists(router.unitLogDir("db") + "/stderr.log"));
}

}  // namespace
}  // namespace vigie
