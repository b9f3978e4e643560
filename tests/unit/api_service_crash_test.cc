// The crash RPCs through a real gRPC server in-process: ListCrashes, GetCrash and DownloadCore
// (raw and compressed, in several chunks), their refusals for a read-role caller, the reasons a
// core is missing, GetNode's core_pattern; and the CoreReader under them.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "agent/api/service/agent_service.h"
#include "agent/api/service/core_download.h"
#include "agent/api/service/core_reader.h"
#include "agent/coredump/compressor.h"
#include "agent/event/event_loop.h"
#include "tests/fakes/crash_records.h"
#include "tests/fakes/temp_dir.h"
#include "vigie/v1/agent.grpc.pb.h"

namespace vigie {
namespace {

constexpr const char* kA = "20240501T000010Z-100-aaaaaaaa";
constexpr const char* kB = "20240501T000020Z-200-bbbbbbbb";
constexpr auto kDeadline = std::chrono::seconds(30);

// Bytes that do not repeat in any short period: a core-like blob that zstd cannot shrink to
// nothing, so that several chunks go both ways.
std::string blob(size_t size) {
  std::string out(size, '\0');
  uint64_t state = 0x9e3779b97f4a7c15ULL;
  for (char& c : out) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    c = static_cast<char>(state & 0x3f);  // compressible, not trivially
  }
  return out;
}

std::string compress(const std::string& raw) {
  UniqueFd in(::memfd_create("raw", MFD_CLOEXEC));
  UniqueFd out(::memfd_create("zst", MFD_CLOEXEC));
  REQUIRE(::write(in.get(), raw.data(), raw.size()) == static_cast<ssize_t>(raw.size()));
  const auto result = coredump::compressZstd(in.get(), raw.size(), out.get(), 1,
                                             std::chrono::steady_clock::now() + kDeadline);
  REQUIRE(result.ok());
  std::string compressed(static_cast<size_t>(::lseek(out.get(), 0, SEEK_END)), '\0');
  REQUIRE(::pread(out.get(), compressed.data(), compressed.size(), 0) ==
          static_cast<ssize_t>(compressed.size()));
  return compressed;
}

UniqueFd fileWith(const std::string& data) {
  UniqueFd fd(::memfd_create("core", MFD_CLOEXEC));
  REQUIRE(::write(fd.get(), data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  ::lseek(fd.get(), 0, SEEK_SET);
  return fd;
}

std::string readAll(CoreReader& reader, size_t chunk) {
  std::string out;
  for (;;) {
    auto next = reader.next(chunk);
    REQUIRE_MESSAGE(next.ok(), (next.ok() ? "" : next.error().message));
    if (next->empty()) {
      return out;
    }
    CHECK(next->size() <= chunk);
    out += *next;
  }
}

TEST_CASE("api core reader: as stored, and decompressed in bounded chunks") {
  const std::string raw = blob(1 << 20);
  const std::string compressed = compress(raw);
  REQUIRE(compressed.size() < raw.size());
  CoreReader stored(fileWith(compressed), false);
  CHECK(readAll(stored, 4096) == compressed);
  CoreReader decompressed(fileWith(compressed), true);
  CHECK(readAll(decompressed, 100 * 1000) == raw);  // chunks that do not divide the size
}

TEST_CASE("api core reader: a corrupt or cut frame is an error, not a short core") {
  const std::string compressed = compress(blob(300000));
  CoreReader cut(fileWith(compressed.substr(0, compressed.size() / 2)), true);
  Result<std::string> chunk = std::string();
  do {
    chunk = cut.next(65536);
  } while (chunk.ok() && !chunk->empty());
  REQUIRE_FALSE(chunk.ok());
  CHECK(chunk.error().message.find("cut short") != std::string::npos);

  CoreReader garbage(fileWith(std::string(1000, 'x')), true);
  auto bad = garbage.next(65536);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("corrupt") != std::string::npos);
}

class SwitchableAccess final : public AccessPolicy {
 public:
  grpc::Status check(const grpc::ServerContextBase&, ApiRole needed,
                     std::string_view method) const override {
    if (read_only && needed == ApiRole::kAdmin) {
      return grpc::Status(
          grpc::StatusCode::PERMISSION_DENIED,
          "client 'poller' has the read role; " + std::string(method) + " needs admin");
    }
    return grpc::Status::OK;
  }
  std::atomic<bool> read_only{false};
};

class NoBackend final : public AgentBackend {
 public:
  void unitCommand(UnitCommand, const std::string&, UnitDone) override {}
  grpc::Status signalUnit(const std::string&, int, bool) override { return grpc::Status::OK; }
  grpc::Status reloadConfig(v1::ReloadConfigResponse*) override { return grpc::Status::OK; }
  grpc::Status readOutput(const v1::ReadOutputRequest&,
                          const std::shared_ptr<OutputOutbox>&) override {
    return grpc::Status::OK;
  }
};

// The crash RPCs never touch the loop: a loop that does not run is enough.
struct CrashFixture {
  CrashFixture()
      : loop(EventLoop::create().value()),
        events(16, nullptr),
        service(AgentService::Deps{publisher, *loop, backend, events, access}, v1::NodeInfo(),
                ApiLimitsSpec{}) {
    grpc::ServerBuilder builder;
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
    REQUIRE(server != nullptr);
    stub = v1::Agent::NewStub(server->InProcessChannel(grpc::ChannelArguments()));
  }
  ~CrashFixture() {
    service.shutdown();
    server->Shutdown(std::chrono::system_clock::now() + kDeadline);
    server->Wait();
  }

  std::unique_ptr<grpc::ClientContext> context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + kDeadline);
    return context;
  }

  // Every chunk of a DownloadCore; `header` gets the first message without its data.
  grpc::Status download(const std::string& id, bool raw, std::string& data,
                        v1::DownloadCoreResponse* header = nullptr, int* messages = nullptr) {
    auto rpc = context();
    v1::DownloadCoreRequest request;
    request.set_id(id);
    request.set_raw(raw);
    auto reader = stub->DownloadCore(rpc.get(), request);
    v1::DownloadCoreResponse chunk;
    int count = 0;
    while (reader->Read(&chunk)) {
      if (count++ == 0 && header != nullptr) {
        *header = chunk;
        header->clear_data();
      }
      data += chunk.data();
    }
    if (messages != nullptr) {
      *messages = count;
    }
    return reader->Finish();
  }

  testing::TempDir store{"vigie-api-service-crash"};
  std::unique_ptr<EventLoop> loop;
  SnapshotPublisher publisher{0xabc};
  NoBackend backend;
  EventHub events;
  SwitchableAccess access;
  AgentService service;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<v1::Agent::Stub> stub;
};

TEST_CASE("api service crashes: list, get, download raw and compressed, and the refusals") {
  CrashFixture f;
  const std::string raw = blob(700 * 1024);  // three chunks raw
  const std::string compressed = compress(raw);
  v1::CaptureReport report;
  report.mutable_process()->add_environ("GREETING=hello");
  testing::writeCrashRecord(f.store.path(), kA, &report, &compressed);
  v1::CrashIncident with_core = testing::crashIncident(kA, "web", 10);
  with_core.set_core_raw_bytes(raw.size());
  with_core.set_core_stored_bytes(compressed.size());
  v1::CrashIncident disabled = testing::crashIncident(kB, "web", 20);
  disabled.set_core_state(v1::CORE_STATE_DISABLED);
  disabled.set_core_path("");
  auto index = testing::crashIndex({with_core, disabled}, f.store.path());
  index->core_pattern.managed = true;
  index->core_pattern.installed = true;
  index->core_pattern.drift = true;
  index->core_pattern.current = "core";
  REQUIRE(f.publisher.publish({}, ClockMapping{}, index.get()));

  SUBCASE("ListCrashes and GetNode's core_pattern") {
    v1::ListCrashesResponse listed;
    REQUIRE(f.stub->ListCrashes(f.context().get(), v1::ListCrashesRequest(), &listed).ok());
    REQUIRE(listed.crashes_size() == 2);
    CHECK(listed.crashes(0).id() == kB);
    CHECK_FALSE(listed.crashes(0).core_available());
    CHECK(listed.crashes(1).core_available());
    v1::GetNodeResponse node;
    REQUIRE(f.stub->GetNode(f.context().get(), v1::GetNodeRequest(), &node).ok());
    CHECK(node.core_pattern().drift());
    CHECK(node.core_pattern().current() == "core");
  }
  SUBCASE("an admin downloads the core raw and as stored") {
    std::string got;
    v1::DownloadCoreResponse header;
    int messages = 0;
    grpc::Status status = f.download("20240501T000010", true, got, &header, &messages);
    REQUIRE_MESSAGE(status.ok(), status.error_message());
    CHECK(got == raw);
    CHECK(messages == 3);
    CHECK(header.id() == kA);
    CHECK(header.compression() == v1::CORE_COMPRESSION_NONE);
    CHECK(header.total_bytes() == raw.size());
    got.clear();
    status = f.download(kA, false, got, &header);
    REQUIRE(status.ok());
    CHECK(got == compressed);
    CHECK(header.compression() == v1::CORE_COMPRESSION_ZSTD);
    CHECK(header.total_bytes() == compressed.size());
    // The server's side of a stream ends (OnDone) a little after the client's Finish.
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    while (f.service.openStreams() != 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    CHECK(f.service.openStreams() == 0);
  }
  SUBCASE("no core: FAILED_PRECONDITION with the reason; unknown id: NOT_FOUND") {
    std::string got;
    grpc::Status status = f.download(kB, true, got);
    CHECK(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    CHECK(status.error_message().find("RLIMIT_CORE 0") != std::string::npos);
    status = f.download("1999", true, got);
    CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(got.empty());
  }
  SUBCASE("a read-role caller: no core, no environment") {
    f.access.read_only = true;
    std::string got;
    const grpc::Status status = f.download(kA, true, got);
    CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK(status.error_message() == "client 'poller' has the read role; DownloadCore needs admin");
    CHECK(got.empty());
    v1::GetCrashRequest request;
    request.set_id(kA);
    v1::GetCrashResponse crash;
    REQUIRE(f.stub->GetCrash(f.context().get(), request, &crash).ok());
    CHECK(crash.environ_withheld());
    CHECK(crash.report().process().environ_size() == 0);
    CHECK(crash.incident().backtrace().threads_size() == 1);
    f.access.read_only = false;
    REQUIRE(f.stub->GetCrash(f.context().get(), request, &crash).ok());
    CHECK(crash.report().process().environ(0) == "GREETING=hello");
  }
}

TEST_CASE("api service crashes: shutdown ends a download that the client stopped reading") {
  CrashFixture f;
  const std::string raw = blob(size_t{64} << 20);  // far more than any window in flight
  const std::string compressed = compress(raw);
  testing::writeCrashRecord(f.store.path(), kA, nullptr, &compressed);
  v1::CrashIncident incident = testing::crashIncident(kA, "web", 10);
  incident.set_core_raw_bytes(raw.size());
  REQUIRE(f.publisher.publish({}, ClockMapping{},
                              testing::crashIndex({incident}, f.store.path()).get()));
  auto rpc = f.context();
  v1::DownloadCoreRequest request;
  request.set_id(kA);
  request.set_raw(true);
  auto reader = f.stub->DownloadCore(rpc.get(), request);
  v1::DownloadCoreResponse chunk;
  REQUIRE(reader->Read(&chunk));
  CHECK(f.service.openStreams() == 1);
  f.service.shutdown();
  size_t received = chunk.data().size();
  while (reader->Read(&chunk)) {
    received += chunk.data().size();
  }
  const grpc::Status status = reader->Finish();
  CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(received < raw.size());
}

}  // namespace
}  // namespace vigie
