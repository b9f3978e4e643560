#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "agent/logs/journal_sink.h"
#include "agent/logs/log_router.h"
#include "agent/logs/output_queue.h"
#include "tests/fakes/temp_dir.h"

namespace vigie {
namespace {

namespace fs = std::filesystem;

class TempDir : public testing::TempDir {
 public:
  TempDir() : testing::TempDir("vigie-router") {}
};

class NoJournal final : public JournalSink {
 public:
  Status send(const JournalFields&) override { return Status::okStatus(); }
};

// A logger whose lines the test can read (after waitIdleForTest(), the writer is quiet).
struct CapturedLog {
  std::ostringstream text;
  std::shared_ptr<spdlog::logger> logger = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(text));

  size_t count(const std::string& needle) const {
    const std::string all = text.str();
    size_t found = 0;
    for (size_t at = all.find(needle); at != std::string::npos; at = all.find(needle, at + 1)) {
      ++found;
    }
    return found;
  }
};

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST_CASE("log router: write errors are counted, logged once per episode, others go on") {
  TempDir tmp;
  NoJournal journal;
  CapturedLog log;
  LogRouterOptions options;
  options.logger = log.logger;
  LogRouter router(tmp.path(), StorageSpec{}, journal, false, options);
  OutputSpec spec;
  spec.file.max_size = 64;
  // The unit's log dir cannot be created: a file is in the way.
  fs::create_directories(tmp.path() + "/logs");
  std::ofstream(router.unitLogDir("bad")) << "in the way";
  auto bad = router.open("bad", spec);
  auto good = router.open("good", spec);
  for (int i = 0; i < 10; ++i) {
    bad->write(OutputStream::kStdout, 1, "lost\n");
    good->write(OutputStream::kStdout, 1, "kept\n");
    router.waitIdleForTest();  // one write each per message: the count is exact.
  }
  CHECK(router.unitCounters("bad")->write_errors == 10);
  CHECK(router.unitCounters("bad")->bytes_written == 0);
  CHECK(router.unitCounters("good")->write_errors == 0);
  CHECK(router.unitCounters("good")->bytes_written == 50);
  CHECK(log.count("bad: cannot write its stdout log") == 1);

  // Fixed: the next write succeeds and says so.
  fs::remove(router.unitLogDir("bad"));
  bad->write(OutputStream::kStdout, 1, "ok\n");
  router.waitIdleForTest();
  CHECK(readFile(router.unitLogDir("bad") + "/stdout.log") == "ok\n");
  CHECK(log.count("bad: its stdout log is writable again") == 1);

  // Broken again (the dir replaced by a file; the rotation finds out): logged again.
  fs::rename(router.unitLogDir("bad"), tmp.path() + "/bad.old");
  std::ofstream(router.unitLogDir("bad")) << "in the way";
  bad->write(OutputStream::kStdout, 1, std::string(99, 'x') + "\n");
  router.waitIdleForTest();
  CHECK(router.unitCounters("bad")->write_errors == 11);
  CHECK(log.count("bad: cannot write its stdout log") == 2);
  CHECK(router.unitCounters("good")->write_errors == 0);
}

// A tiny tmpfs, unmounted whatever happens.
class TinyTmpfs {
 public:
  explicit TinyTmpfs(const std::string& path) : path_(path) {
    fs::create_directories(path_);
    mounted_ = ::mount("tmpfs", path_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") == 0;
  }
  ~TinyTmpfs() {
    if (mounted_) {
      ::umount2(path_.c_str(), MNT_DETACH);
    }
  }
  TinyTmpfs(const TinyTmpfs&) = delete;
  TinyTmpfs& operator=(const TinyTmpfs&) = delete;

  bool mounted() const { return mounted_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

TEST_CASE("log router: a full disk is counted and logged once, and never blocks") {
  TempDir tmp;
  TinyTmpfs disk(tmp.path() + "/state");
  if (!disk.mounted()) {
    MESSAGE("skipped: mounting a tmpfs needs root (CAP_SYS_ADMIN)");
    return;
  }
  NoJournal journal;
  CapturedLog log;
  LogRouterOptions options;
  options.logger = log.logger;
  StorageSpec storage;
  storage.keep_free = 0;
  {
    LogRouter router(tmp.path() + "/state", storage, journal, false, options);
    OutputSpec spec;
    spec.file.max_size = uint64_t{1} << 20;  // bigger than the disk: no rotation saves us.
    auto output = router.open("flood", spec);
    const std::string chunk(4096, 'x');
    for (int i = 0; i < 40; ++i) {  // 160 KiB into 64 KiB.
      output->write(OutputStream::kStdout, 1, chunk);
      router.waitIdleForTest();
    }
    const OutputCounters counters = *router.unitCounters("flood");
    CHECK(counters.write_errors > 0);
    CHECK(counters.bytes_written < 40 * 4096);
    CHECK(log.count("flood: cannot write its stdout log") == 1);
    CHECK(log.text.str().find("No space left on device") != std::string::npos);
  }
}

TEST_CASE("log router: with the writer blocked, the queue bound drops and counts bytes") {
  TempDir tmp;
  NoJournal journal;
  CapturedLog log;
  LogRouterOptions options;
  options.queue_limit = 64 * 1024;
  options.logger = log.logger;
  LogRouter router(tmp.path(), StorageSpec{}, journal, false, options);
  auto output = router.open("flood", OutputSpec{});
  router.waitIdleForTest();
  router.pauseWriterForTest(true);
  const std::string chunk(1024, 'x');
  for (int i = 0; i < 200; ++i) {
    output->write(OutputStream::kStdout, 1, chunk);
    CHECK(router.counters().queued_bytes <= options.queue_limit);
  }
  CHECK(router.counters().queued_bytes == 64 * 1024);
  CHECK(router.unitCounters("flood")->bytes_dropped == 136 * 1024);
  CHECK(log.count("log writer is behind") == 1);

  router.pauseWriterForTest(false);
  router.waitIdleForTest();
  CHECK(router.counters().queued_bytes == 0);
  CHECK(log.count("log writer caught up; 139264 bytes of output were dropped") == 1);
  output->write(OutputStream::kStdout, 1, "after\n");
  router.waitIdleForTest();
  const std::string written = readFile(router.unitLogDir("flood") + "/stdout.log");
  CHECK(written == std::string(64 * 1024, 'x') +
                       "\n-- vigie: 139264 bytes dropped, the log writer fell behind --\nafter\n");
  CHECK(router.unitCounters("flood")->bytes_written == written.size());

  // A new overflow is a new episode: warned about again.
  router.pauseWriterForTest(true);
  for (int i = 0; i < 100; ++i) {
    output->write(OutputStream::kStdout, 1, chunk);
  }
  CHECK(log.count("log writer is behind") == 2);
  router.pauseWriterForTest(false);
  router.waitIdleForTest();
}

TEST_CASE("log router: stopping writes what is queued, and later output is dropped") {
  TempDir tmp;
  NoJournal journal;
  LogRouter router(tmp.path(), StorageSpec{}, journal, false);
  auto output = router.open("web", OutputSpec{});
  router.pauseWriterForTest(true);
  for (int i = 0; i < 10; ++i) {
    output->write(OutputStream::kStdout, 1, "line " + std::to_string(i) + "\n");
  }
  router.flushAndStop();  // a stop overrides the pause.
  const std::string written = readFile(router.unitLogDir("web") + "/stdout.log");
  CHECK(written.rfind("line 0\n", 0) == 0);
  CHECK(written.find("line 9\n") != std::string::npos);
  output->write(OutputStream::kStdout, 1, "too late\n");
  CHECK(router.unitCounters("web")->bytes_dropped == 9);
  output.reset();
}

TEST_CASE(
    "output queue: coalesces data, bounds bytes, and drops what a stop leaves past its "
    "deadline") {
  OutputQueue queue(100);
  OutputMessage header;
  header.kind = OutputMessage::Kind::kData;
  CHECK(queue.pushData(header, std::string(40, 'a')) == OutputQueue::PushResult::kQueued);
  CHECK(queue.pushData(header, std::string(40, 'b')) == OutputQueue::PushResult::kQueued);
  CHECK(queue.pushData(header, std::string(40, 'c')) == OutputQueue::PushResult::kDroppedFirst);
  CHECK(queue.pushData(header, std::string(40, 'd')) == OutputQueue::PushResult::kDropped);
  CHECK(queue.queuedBytes() == 80);
  header.stream = OutputStream::kStderr;  // another stream: a message of its own.
  CHECK(queue.pushData(header, std::string(20, 'e')) == OutputQueue::PushResult::kQueued);

  OutputQueue::Popped first = queue.pop(OutputQueue::Clock::now());
  REQUIRE(first.message.has_value());
  CHECK(first.message->data == std::string(40, 'a') + std::string(40, 'b'));
  CHECK(queue.takeOverflowEnded() == 80);  // 20 bytes left: under half, the overflow is over.

  queue.stop(OutputQueue::Clock::now() - 1s);  // the drain deadline has passed already.
  OutputQueue::Popped last = queue.pop(std::nullopt);
  CHECK(last.finished);
  CHECK_FALSE(last.message.has_value());
  CHECK(queue.takeRemaining().size() == 1);
  CHECK(queue.pushData(header, "x") == OutputQueue::PushResult::kDropped);
}

}  // namespace
}  // namespace vigie
