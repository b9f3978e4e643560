#include "agent/health/socket_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "agent/health/http_status.h"

namespace vigie {
namespace {

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
  std::string text;  // "host:port", IPv6 in brackets.
};

Result<Address> addressOf(const ProbeSpec& spec) {
  Address address;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
  if (::inet_pton(AF_INET, spec.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(spec.port);
    address.length = sizeof(sockaddr_in);
    address.family = AF_INET;
    address.text = spec.host + ":" + std::to_string(spec.port);
    return address;
  }
  if (::inet_pton(AF_INET6, spec.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(spec.port);
    address.length = sizeof(sockaddr_in6);
    address.family = AF_INET6;
    address.text = "[" + spec.host + "]:" + std::to_string(spec.port);
    return address;
  }
  // The config accepts numeric addresses only: nothing here may block on a resolver.
  return Error{"\"" + spec.host + "\" is not an IP address", EINVAL};
}

}  // namespace

Result<ProbeRunPtr> SocketProbe::start(Dispatcher& dispatcher, const ProbeSpec& spec,
                                       ProbeFactory::Done done) {
  auto address = addressOf(spec);
  if (!address) {
    return address.error();
  }
  UniqueFd fd(::socket(address->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    return Error::fromErrno("socket");
  }
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address->storage), address->length) !=
          0 &&
      errno != EINPROGRESS) {
    return Error::fromErrno("connect " + address->text);
  }
  const bool http = spec.kind == ProbeSpec::Kind::kHttp;
  std::string request = http ? httpProbeRequest(spec.path, address->text) : std::string();
  std::unique_ptr<SocketProbe> probe(new SocketProbe(dispatcher, std::move(fd), address->text, http,
                                                     std::move(request), std::move(done)));
  // Writable once the connect completes, or fails (then with an error event).
  SocketProbe* raw = probe.get();
  probe->watch_ =
      dispatcher.watchFd(raw->fd_.get(), kFdWritable, [raw](uint32_t) { raw->onEvent(); });
  if (!probe->watch_) {
    return Error::fromErrno("epoll_ctl(probe socket)");
  }
  return ProbeRunPtr(std::move(probe));
}

SocketProbe::SocketProbe(Dispatcher& dispatcher, UniqueFd fd, std::string target, bool http,
                         std::string request, ProbeFactory::Done done)
    : dispatcher_(dispatcher),
      fd_(std::move(fd)),
      target_(std::move(target)),
      http_(http),
      request_(std::move(request)),
      done_(std::move(done)) {}

void SocketProbe::onEvent() {
  switch (phase_) {
    case Phase::kConnecting: {
      int error = 0;
      socklen_t length = sizeof(error);
      if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
        error = errno;
      }
      if (error != 0) {
        finish(false, "connect " + target_ + ": " + std::strerror(error));
        return;
      }
      if (!http_) {
        finish(true, "connected");
        return;
      }
      phase_ = Phase::kSending;
      sendRequest();
      return;
    }
    case Phase::kSending:
      sendRequest();
      return;
    case Phase::kReceiving:
      readResponse();
      return;
  }
}

void SocketProbe::sendRequest() {
  while (sent_ < request_.size()) {
    const ssize_t n = ::send(fd_.get(), request_.data() + sent_, request_.size() - sent_,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        return;  // still watched for writability.
      }
      finish(false, "send to " + target_ + ": " + std::strerror(errno));
      return;
    }
    sent_ += static_cast<size_t>(n);
  }
  phase_ = Phase::kReceiving;
  // The loop takes one watch per fd: the writable one goes first (from inside its own callback,
  // which the dispatcher allows), then the readable one comes.
  watch_.reset();
  watch_ = dispatcher_.watchFd(fd_.get(), kFdReadable, [this](uint32_t) { onEvent(); });
  if (!watch_) {
    finish(false, std::string("epoll_ctl(probe socket): ") + std::strerror(errno));
  }
}

void SocketProbe::readResponse() {
  std::array<char, 512> chunk;
  for (;;) {
    const ssize_t n = ::recv(fd_.get(), chunk.data(), chunk.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        return;
      }
      finish(false, "read from " + target_ + ": " + std::strerror(errno));
      return;
    }
    if (n == 0 && response_.empty()) {
      finish(false, "connection closed without a response");
      return;
    }
    response_.append(chunk.data(), static_cast<size_t>(n));
    const size_t end = response_.find('\n');
    if (end == std::string::npos && n > 0 && response_.size() < kMaxStatusLine) {
      continue;
    }
    std::string_view line(response_);
    line = line.substr(0, end);
    if (line.ends_with('\r')) {
      line.remove_suffix(1);
    }
    const auto code = parseHttpStatusLine(line);
    if (!code) {
      finish(false, "not an HTTP response");
      return;
    }
    finish(httpStatusHealthy(*code), "HTTP " + std::to_string(*code));
    return;
  }
}

void SocketProbe::finish(bool ok, std::string status) {
  watch_.reset();
  fd_.reset();
  // Done may destroy this object: run it from the stack, and touch nothing after.
  auto done = std::move(done_);
  ProbeResult result;
  result.ok = ok;
  result.status = std::move(status);
  done(std::move(result));
}

}  // namespace vigie
