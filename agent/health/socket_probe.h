#pragma once

#include <string>

#include "agent/health/probe.h"
#include "agent/os/unique_fd.h"
#include "vigie/dispatcher.h"

namespace vigie {

// An http or tcp probe run, non-blocking on the loop: a non-blocking connect watched for
// writability; for tcp, a completed connect is the success. For http, an HTTP/1.0 GET, then the
// status line of the answer (200 to 399: success). The caller's timer bounds it.
class SocketProbe final : public ProbeRun {
 public:
  // Fails at once when the connect does (a refused connect on loopback often does).
  static Result<ProbeRunPtr> start(Dispatcher& dispatcher, const ProbeSpec& spec,
                                   ProbeFactory::Done done);
  ~SocketProbe() override = default;

  // The status line is all an HTTP probe reads; a longer first line is not HTTP.
  static constexpr size_t kMaxStatusLine = 1024;

 private:
  enum class Phase { kConnecting, kSending, kReceiving };

  SocketProbe(Dispatcher& dispatcher, UniqueFd fd, std::string target, bool http,
              std::string request, ProbeFactory::Done done);
  void onEvent();
  void sendRequest();
  void readResponse();
  void finish(bool ok, std::string status);

  Dispatcher& dispatcher_;
  UniqueFd fd_;
  std::string target_;  // "127.0.0.1:8080", for messages.
  bool http_;
  std::string request_;
  size_t sent_ = 0;
  std::string response_;
  Phase phase_ = Phase::kConnecting;
  ProbeFactory::Done done_;
  FdWatchPtr watch_;
};

}  // namespace vigie
