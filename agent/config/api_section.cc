// The `api:` and `metrics:` sections of the main config file. Everything that can be checked
// without opening a file or a port is checked here, so `vigied --check-config` catches it; the
// TLS files themselves are read (and their errors reported) when the listener starts.

#include <fmt/format.h>
#include <sys/un.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "agent/config/process_parsers.h"
#include "agent/config/section_parsers.h"

namespace vigie::config_detail {
namespace {

constexpr uint64_t kMinMessageBytes = uint64_t{4} << 10;
constexpr uint64_t kMaxMessageBytes = uint64_t{1} << 30;
constexpr int64_t kMaxStreams = 4096;
constexpr int64_t kMaxEventQueue = 1'000'000;
// sun_path holds the path and its terminating NUL.
constexpr size_t kMaxSocketPath = sizeof(sockaddr_un{}.sun_path) - 1;

void readSocketPath(const Field& field, std::string& socket, Diagnostics& diag) {
  std::optional<std::string> path = readAbsolutePath(field, diag);
  if (path && path->size() > kMaxSocketPath) {
    reportAt(field,
             fmt::format("path is {} bytes long; a unix socket path has at most {}", path->size(),
                         kMaxSocketPath),
             diag);
    return;
  }
  assignIfPresent(socket, path);
}

// "" (root only) or a group that exists.
void readSocketGroup(const Field& field, std::string& group, Diagnostics& diag) {
  if (field.node.IsScalar() && field.node.Scalar().empty()) {
    group.clear();
    return;
  }
  readGroup(field, group, diag);
}

void readListen(const Field& field, std::string& listen, Diagnostics& diag) {
  std::optional<std::string> text = readString(field, diag);
  if (!text) {
    return;
  }
  if (Result<ListenAddress> address = parseListenAddress(*text); !address) {
    reportAt(field, address.error().message, diag);
    return;
  }
  listen = std::move(*text);
}

// A size within [min, max], quoted as written when it is not.
void readBoundedSize(const Field& field, uint64_t min, uint64_t max, std::string_view range,
                     uint64_t& target, Diagnostics& diag) {
  std::optional<uint64_t> value = readSize(field, diag);
  if (value && (*value < min || *value > max)) {
    reportAt(field,
             fmt::format("{} is out of range (expected between {})", field.node.Scalar(), range),
             diag);
    return;
  }
  assignIfPresent(target, value);
}

void reportMissingKeys(const Field& field, const MapView& view,
                       std::initializer_list<std::string_view> required, Diagnostics& diag) {
  for (std::string_view key : required) {
    if (view.find(key) == nullptr) {
      reportAt(field, fmt::format("missing required key \"{}\"", key), diag);
    }
  }
}

std::optional<ApiRole> readRole(const Field& field, Diagnostics& diag) {
  std::optional<std::string> role = readString(field, diag);
  if (!role) {
    return std::nullopt;
  }
  if (*role == "read") {
    return ApiRole::kRead;
  }
  if (*role == "admin") {
    return ApiRole::kAdmin;
  }
  reportAt(field, fmt::format("unknown role \"{}\" (expected read or admin)", *role), diag);
  return std::nullopt;
}

// The `clients:` list: who may connect over TCP, each with a role. Identities are unique.
void readClients(const Field& field, std::vector<ApiClientSpec>& clients, Diagnostics& diag) {
  constexpr std::string_view kExpected =
      "expected a list of clients such as {identity: control-plane, role: read}";
  if (isAbsent(field) || !field.node.IsSequence()) {
    reportAt(field, kExpected, diag);
    return;
  }
  if (field.node.size() == 0) {
    reportAt(field, fmt::format("no client may connect; {}", kExpected), diag);
    return;
  }
  std::map<std::string, int, std::less<>> first_line;
  size_t index = 0;
  for (auto it = field.node.begin(); it != field.node.end(); ++it, ++index) {
    const Field item = field.element(*it, index);
    if (!expectMap(item, diag)) {
      continue;
    }
    const MapView view(item.node, diag);
    view.reportUnknownKeys({"identity", "role"}, fmt::format("in {}", item.path), diag);
    reportMissingKeys(item, view, {"identity", "role"}, diag);
    ApiClientSpec client;
    bool ok = view.find("identity") != nullptr && view.find("role") != nullptr;
    if (const MapEntry* identity = view.find("identity")) {
      const Field identity_field = identity->field(item.path);
      std::optional<std::string> name = readString(identity_field, diag);
      if (name && name->empty()) {
        reportAt(identity_field, "must not be empty", diag);
        name.reset();
      }
      if (name) {
        const int line = diag.locate(identity_field.mark).line;
        auto [seen, inserted] = first_line.emplace(*name, line);
        if (!inserted) {
          reportAt(identity_field,
                   fmt::format("duplicate identity \"{}\" (first at line {})", *name, seen->second),
                   diag);
          name.reset();
        }
      }
      ok = ok && name.has_value();
      assignIfPresent(client.identity, name);
    }
    if (const MapEntry* role = view.find("role")) {
      std::optional<ApiRole> value = readRole(role->field(item.path), diag);
      ok = ok && value.has_value();
      assignIfPresent(client.role, value);
    }
    if (ok) {
      clients.push_back(std::move(client));
    }
  }
}

void readTcp(const MapEntry& entry, const std::string& parent, std::optional<ApiTcpSpec>& tcp,
             Diagnostics& diag) {
  if (isAbsent(entry.field(parent))) {
    return;  // "tcp:" with nothing under it: no TCP listener, as without the key.
  }
  auto view = openSection(entry, parent, {"listen", "cert", "key", "client_ca", "clients"}, diag);
  if (!view) {
    return;
  }
  const Field field = entry.field(parent);
  reportMissingKeys(field, *view, {"listen", "cert", "key", "client_ca", "clients"}, diag);
  ApiTcpSpec spec;
  if (const MapEntry* listen = view->find("listen")) {
    readListen(listen->field(field.path), spec.listen, diag);
  }
  if (const MapEntry* cert = view->find("cert")) {
    assignIfPresent(spec.cert, readAbsolutePath(cert->field(field.path), diag));
  }
  if (const MapEntry* key = view->find("key")) {
    assignIfPresent(spec.key, readAbsolutePath(key->field(field.path), diag));
  }
  if (const MapEntry* client_ca = view->find("client_ca")) {
    assignIfPresent(spec.client_ca, readAbsolutePath(client_ca->field(field.path), diag));
  }
  if (const MapEntry* clients = view->find("clients")) {
    readClients(clients->field(field.path), spec.clients, diag);
  }
  tcp = std::move(spec);
}

void readApiLimits(const MapEntry& entry, const std::string& parent, ApiLimitsSpec& limits,
                   Diagnostics& diag) {
  auto view =
      openSection(entry, parent,
                  {"max_message_bytes", "max_streams", "event_queue", "output_queue_bytes"}, diag);
  if (!view) {
    return;
  }
  const std::string path = entry.field(parent).path;
  if (const MapEntry* max_message = view->find("max_message_bytes")) {
    readBoundedSize(max_message->field(path), kMinMessageBytes, kMaxMessageBytes, "4KiB and 1GiB",
                    limits.max_message_bytes, diag);
  }
  if (const MapEntry* max_streams = view->find("max_streams")) {
    assignIfPresent(limits.max_streams,
                    readInteger(max_streams->field(path), 1, kMaxStreams, diag));
  }
  if (const MapEntry* event_queue = view->find("event_queue")) {
    assignIfPresent(limits.event_queue,
                    readInteger(event_queue->field(path), 1, kMaxEventQueue, diag));
  }
  if (const MapEntry* output_queue = view->find("output_queue_bytes")) {
    readBoundedSize(output_queue->field(path), kMinMessageBytes, kMaxMessageBytes, "4KiB and 1GiB",
                    limits.output_queue_bytes, diag);
  }
}

}  // namespace

void readApi(const MapEntry& entry, ApiSpec& api, Diagnostics& diag) {
  auto view = openSection(entry, "", {"socket", "socket_group", "tcp", "limits"}, diag);
  if (!view) {
    return;
  }
  const std::string path = entry.field("").path;
  if (const MapEntry* socket = view->find("socket")) {
    readSocketPath(socket->field(path), api.socket, diag);
  }
  if (const MapEntry* group = view->find("socket_group")) {
    readSocketGroup(group->field(path), api.socket_group, diag);
  }
  if (const MapEntry* tcp = view->find("tcp")) {
    readTcp(*tcp, path, api.tcp, diag);
  }
  if (const MapEntry* limits = view->find("limits")) {
    readApiLimits(*limits, path, api.limits, diag);
  }
}

void readMetrics(const MapEntry& entry, MetricsSpec& metrics, Diagnostics& diag) {
  auto view = openSection(entry, "", {"listen", "healthz_max_lag"}, diag);
  if (!view) {
    return;
  }
  const std::string path = entry.field("").path;
  if (const MapEntry* listen = view->find("listen")) {
    const Field field = listen->field(path);
    if (field.node.IsScalar() && field.node.Scalar().empty()) {
      metrics.listen.clear();  // no HTTP endpoint.
    } else {
      readListen(field, metrics.listen, diag);
    }
  }
  if (const MapEntry* lag = view->find("healthz_max_lag")) {
    const Field field = lag->field(path);
    std::optional<Duration> value = readDuration(field, diag);
    if (value && *value <= Duration::zero()) {
      reportAt(field, "must be greater than 0", diag);
      return;
    }
    assignIfPresent(metrics.healthz_max_lag, value);
  }
}

}  // namespace vigie::config_detail
