#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "agent/logs/agent_logging.h"
#include "agent/logs/journal_sink.h"
#include "agent/logs/line_splitter.h"
#include "agent/logs/log_router.h"
#include "agent/os/unique_fd.h"
#include "tests/fakes/temp_dir.h"

namespace vigie {
namespace {

namespace fs = std::filesystem;

class TempDir : public testing::TempDir {
 public:
  TempDir() : testing::TempDir("vigie-journal") {}
};

// Records what would have gone to journald.
class FakeJournal final : public JournalSink {
 public:
  Status send(const JournalFields& fields) override {
    std::lock_guard lock(mutex_);
    entries_.push_back(fields);
    if (refuse_) {
      return Error{"refused", ECONNREFUSED};
    }
    return Status::okStatus();
  }
  std::vector<JournalFields> entries() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }
  void refuse(bool refuse) {
    std::lock_guard lock(mutex_);
    refuse_ = refuse;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<JournalFields> entries_;
  bool refuse_ = false;
};

std::string field(const JournalFields& fields, const std::string& name) {
  for (const auto& [key, value] : fields) {
    if (key == name) {
      return value;
    }
  }
  return "<missing " + name + ">";
}

std::vector<std::string> messages(const std::vector<JournalFields>& entries) {
  std::vector<std::string> result;
  for (const JournalFields& entry : entries) {
    result.push_back(field(entry, "MESSAGE"));
  }
  return result;
}

OutputSpec journalOnly() {
  OutputSpec spec;
  spec.file.enabled = false;
  spec.journal = true;
  return spec;
}

TEST_CASE("line splitter joins partial lines and cuts long ones") {
  std::vector<std::string> lines;
  std::vector<uint64_t> instances;
  const LineSplitter::OnLine collect = [&](uint64_t id, std::string_view line) {
    instances.push_back(id);
    lines.emplace_back(line);
  };
  LineSplitter splitter(8);
  splitter.feed(1, "one\ntw", collect);
  CHECK(lines == std::vector<std::string>{"one"});
  CHECK(splitter.partialSize() == 2);
  splitter.feed(1, "o\n\nthree", collect);
  CHECK(lines == std::vector<std::string>{
                     "one",
                     "two",
                     "",
                 });
  splitter.feed(1, "-is-long\n", collect);  // "three-is-long": 13 bytes, cut at 8.
  CHECK(lines == std::vector<std::string>{"one", "two", "", "three-is", "-long"});
  splitter.feed(1, "12345678\n", collect);  // exactly max: one line, no empty piece after it.
  CHECK(lines.back() == "12345678");
  CHECK(lines.size() == 6);
  splitter.feed(1, std::string(20, 'x'), collect);  // 8 + 8 out, 4 kept.
  CHECK(lines.size() == 8);
  CHECK(splitter.partialSize() == 4);
  splitter.feed(2, "new\n", collect);  // another instance ends the old partial line.
  CHECK(lines.size() == 10);
  CHECK(lines[8] == "xxxx");
  CHECK(instances[8] == 1);
  CHECK(lines[9] == "new");
  CHECK(instances[9] == 2);
  splitter.feed(2, "tail", collect);
  splitter.flush(collect);
  CHECK(lines.back() == "tail");
  CHECK(splitter.partialSize() == 0);
}

TEST_CASE("journal: each line goes out with the unit's fields and the stream's priority") {
  TempDir tmp;
  FakeJournal journal;
  LogRouter router(tmp.path(), StorageSpec{}, journal, /*journald_available=*/true);
  auto output = router.open("web", journalOnly());
  output->instanceStarted(7, 4242);
  output->write(OutputStream::kStdout, 7, "hello\nwor");
  output->write(OutputStream::kStdout, 7, "ld\n");
  output->write(OutputStream::kStderr, 7, "oops\n");
  router.waitIdleForTest();
  const std::vector<JournalFields> entries = journal.entries();
  REQUIRE(entries.size() == 3);
  CHECK(messages(entries) == std::vector<std::string>{"hello", "world", "oops"});
  for (const JournalFields& entry : entries) {
    CHECK(field(entry, "SYSLOG_IDENTIFIER") == "web");
    CHECK(field(entry, "VIGIE_UNIT") == "web");
    CHECK(field(entry, "VIGIE_INSTANCE") == "7");
    CHECK(field(entry, "SYSLOG_PID") == "4242");
  }
  CHECK(field(entries[0], "PRIORITY") == "6");
  CHECK(field(entries[1], "PRIORITY") == "6");
  CHECK(field(entries[2], "PRIORITY") == "4");
  CHECK_FALSE(fs::exists(router.unitLogDir("web")));  // journal only: no files.
  CHECK(router.unitCounters("web")->journal_lines == 3);
}

TEST_CASE("journal: a long line is capped and a partial line is sent when its instance ends") {
  TempDir tmp;
  FakeJournal journal;
  LogRouterOptions options;
  options.max_journal_line = 16;
  LogRouter router(tmp.path(), StorageSpec{}, journal, true, options);
  auto output = router.open("web", journalOnly());
  output->instanceStarted(1, 10);
  output->write(OutputStream::kStdout, 1, std::string(40, 'x') + "\n");
  output->write(OutputStream::kStdout, 1, "unterminated");
  router.waitIdleForTest();
  CHECK(messages(journal.entries()) ==
        std::vector<std::string>{std::string(16, 'x'), std::string(16, 'x'), std::string(8, 'x')});
  output->instanceStarted(2, 20);  // the boundary sends instance 1's last words.
  router.waitIdleForTest();
  std::vector<JournalFields> entries = journal.entries();
  REQUIRE(entries.size() == 4);
  CHECK(field(entries[3], "MESSAGE") == "unterminated");
  CHECK(field(entries[3], "VIGIE_INSTANCE") == "1");
  output->write(OutputStream::kStderr, 2, "bye");
  output.reset();  // closing the output sends what is left too.
  router.waitIdleForTest();
  entries = journal.entries();
  REQUIRE(entries.size() == 5);
  CHECK(field(entries[4], "MESSAGE") == "bye");
  CHECK(field(entries[4], "VIGIE_INSTANCE") == "2");
}

TEST_CASE("journal: nothing is sent when journald is absent or output.journal is off") {
  TempDir tmp;
  FakeJournal journal;
  SUBCASE("journald absent") {
    LogRouter router(tmp.path(), StorageSpec{}, journal, /*journald_available=*/false);
    OutputSpec spec;
    spec.journal = true;
    auto output = router.open("web", spec);
    output->write(OutputStream::kStdout, 1, "to the file only\n");
    router.waitIdleForTest();
    std::ifstream in(router.unitLogDir("web") + "/stdout.log");
    std::string line;
    std::getline(in, line);
    CHECK(line == "to the file only");
  }
  SUBCASE("output.journal off") {
    LogRouter router(tmp.path(), StorageSpec{}, journal, /*journald_available=*/true);
    auto output = router.open("web", OutputSpec{});
    output->write(OutputStream::kStdout, 1, "to the file only\n");
    router.waitIdleForTest();
  }
  CHECK(journal.entries().empty());
}

TEST_CASE("journal: refused lines are counted, and logged once per episode") {
  TempDir tmp;
  FakeJournal journal;
  std::ostringstream log;
  LogRouterOptions options;
  options.logger = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  LogRouter router(tmp.path(), StorageSpec{}, journal, true, options);
  auto output = router.open("web", journalOnly());
  journal.refuse(true);
  output->write(OutputStream::kStdout, 1, "a\nb\nc\n");
  router.waitIdleForTest();
  CHECK(router.unitCounters("web")->journal_errors == 3);
  journal.refuse(false);
  output->write(OutputStream::kStdout, 1, "d\n");
  router.waitIdleForTest();
  journal.refuse(true);
  output->write(OutputStream::kStdout, 1, "e\n");
  router.waitIdleForTest();
  CHECK(router.unitCounters("web")->journal_errors == 4);
  CHECK(router.unitCounters("web")->journal_lines == 1);
  const std::string text = log.str();
  size_t refusals = 0;
  for (size_t at = text.find("journald refused"); at != std::string::npos;
       at = text.find("journald refused", at + 1)) {
    ++refusals;
  }
  CHECK(refusals == 2);
}

// A listening AF_UNIX datagram socket, like journald's.
UniqueFd bindSocket(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  REQUIRE(fd.valid());
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  REQUIRE(path.size() < sizeof(address.sun_path));
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  REQUIRE(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0);
  return fd;
}

TEST_CASE("journald socket check: a socket means journald, anything else means stderr") {
  TempDir tmp;
  const std::string socket_path = tmp.path() + "/socket";
  const UniqueFd socket = bindSocket(socket_path);
  CHECK(journaldAvailable(socket_path));
  CHECK(chooseLogBackend(socket_path) == LogBackend::kJournald);

  const std::string file_path = tmp.path() + "/file";
  std::ofstream(file_path) << "not a socket";
  CHECK_FALSE(journaldAvailable(file_path));
  CHECK(chooseLogBackend(file_path) == LogBackend::kStderr);

  CHECK_FALSE(journaldAvailable(tmp.path() + "/missing"));
  CHECK(chooseLogBackend(tmp.path() + "/missing") == LogBackend::kStderr);
  CHECK_FALSE(journaldAvailable(tmp.path()));  // a directory is no socket either.
}

TEST_CASE("log target: auto follows the socket, journal and stderr force a backend") {
  TempDir tmp;
  const std::string socket_path = tmp.path() + "/socket";
  CHECK(*parseLogTarget("auto", socket_path) == LogBackend::kStderr);
  const UniqueFd socket = bindSocket(socket_path);
  CHECK(*parseLogTarget("auto", socket_path) == LogBackend::kJournald);
  CHECK(*parseLogTarget("stderr", socket_path) == LogBackend::kStderr);
  CHECK(*parseLogTarget("journal", tmp.path() + "/missing") == LogBackend::kJournald);
  CHECK_FALSE(parseLogTarget("syslog", socket_path).ok());
}

TEST_CASE("agent logs: the journald backend sends through the journal sink, else stderr") {
  auto journal = std::make_shared<FakeJournal>();
  auto logger = makeAgentLogger(LogBackend::kJournald, journal);
  logger->set_level(spdlog::level::debug);
  logger->info("unit {} started", "web");
  logger->warn("careful");
  logger->error("broken");
  logger->debug("details");
  const std::vector<JournalFields> entries = journal->entries();
  REQUIRE(entries.size() == 4);
  CHECK(field(entries[0], "MESSAGE") == "unit web started");
  CHECK(field(entries[0], "SYSLOG_IDENTIFIER") == "vigied");
  CHECK(field(entries[0], "PRIORITY") == "6");
  CHECK(field(entries[1], "PRIORITY") == "4");
  CHECK(field(entries[2], "PRIORITY") == "3");
  CHECK(field(entries[3], "PRIORITY") == "7");

  auto to_stderr = makeAgentLogger(LogBackend::kStderr);
  REQUIRE(to_stderr->sinks().size() == 1);
  CHECK(std::dynamic_pointer_cast<spdlog::sinks::stderr_color_sink_mt>(to_stderr->sinks()[0]) !=
        nullptr);
  CHECK(journal->entries().size() == 4);
}

}  // namespace
}  // namespace vigie
