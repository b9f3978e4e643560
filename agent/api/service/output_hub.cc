#include "agent/api/service/output_hub.h"

#include <algorithm>

namespace vigie {
namespace {

v1::OutputStream toProto(OutputStream stream) {
  return stream == OutputStream::kStdout ? v1::OUTPUT_STREAM_STDOUT : v1::OUTPUT_STREAM_STDERR;
}

v1::ReadOutputResponse chunk(uint64_t instance_id, v1::OutputStream stream, std::string_view data,
                             uint64_t dropped) {
  v1::ReadOutputResponse response;
  response.set_instance_id(instance_id);
  response.set_stream(stream);
  response.set_data(data.data(), data.size());
  response.set_dropped_bytes(dropped);
  return response;
}

// Small writes of the same instance and stream are sent as one chunk while they wait.
bool mergeChunk(v1::ReadOutputResponse& last, const v1::ReadOutputResponse& next) {
  if (last.instance_ended() || next.dropped_bytes() != 0 ||
      last.instance_id() != next.instance_id() || last.stream() != next.stream() ||
      last.data().size() + next.data().size() > kOutputChunkBytes) {
    return false;
  }
  last.mutable_data()->append(next.data());
  return true;
}

}  // namespace

void pushTail(OutputOutbox& outbox, uint64_t instance_id, v1::OutputStream stream,
              std::string_view data, uint64_t dropped) {
  do {
    const std::string_view piece = data.substr(0, kOutputChunkBytes);
    data.remove_prefix(piece.size());
    outbox.push(chunk(instance_id, stream, piece, dropped), 0);
    dropped = 0;
  } while (!data.empty());
}

void OutputHub::follow(const std::string& unit, Follower follower) {
  auto& list = units_[unit];
  std::erase_if(list, [](const State& s) { return s.follower.outbox->closed(); });
  list.push_back(State{std::move(follower), 0});
}

std::vector<OutputHub::State>* OutputHub::followersOf(const std::string& unit) {
  auto it = units_.find(unit);
  if (it == units_.end()) {
    return nullptr;
  }
  std::erase_if(it->second, [](const State& s) { return s.follower.outbox->closed(); });
  if (it->second.empty()) {
    units_.erase(it);
    return nullptr;
  }
  return &it->second;
}

void OutputHub::write(const std::string& unit, OutputStream stream, uint64_t instance_id,
                      std::string_view data) {
  std::vector<State>* list = followersOf(unit);
  if (list == nullptr || data.empty()) {
    return;
  }
  const v1::OutputStream proto_stream = toProto(stream);
  for (State& state : *list) {
    const Follower& follower = state.follower;
    const bool wanted =
        stream == OutputStream::kStdout ? follower.want_stdout : follower.want_stderr;
    if (!wanted || instance_id < follower.first_instance) {
      continue;
    }
    std::string_view rest = data;
    while (!rest.empty()) {
      const std::string_view piece = rest.substr(0, kOutputChunkBytes);
      rest.remove_prefix(piece.size());
      const auto result = follower.outbox->push(
          chunk(instance_id, proto_stream, piece, state.dropped), piece.size(), mergeChunk);
      if (result == OutputOutbox::PushResult::kQueued) {
        state.dropped = 0;
      } else {
        state.dropped += piece.size();
      }
    }
  }
}

void OutputHub::instanceEnded(const std::string& unit, uint64_t instance_id) {
  std::vector<State>* list = followersOf(unit);
  if (list == nullptr) {
    return;
  }
  for (State& state : *list) {
    Follower& follower = state.follower;
    if (instance_id < follower.first_instance || instance_id <= follower.ended_through) {
      continue;
    }
    v1::ReadOutputResponse end;
    end.set_instance_id(instance_id);
    end.set_instance_ended(true);
    end.set_dropped_bytes(state.dropped);
    // Cost 0: the end marker always fits, so a reader that dropped data still learns where each
    // instance ended.
    if (follower.outbox->push(std::move(end), 0) == OutputOutbox::PushResult::kQueued) {
      state.dropped = 0;
    }
    follower.ended_through = instance_id;
  }
}

size_t OutputHub::followers() const {
  size_t count = 0;
  for (const auto& [unit, list] : units_) {
    count += static_cast<size_t>(std::count_if(
        list.begin(), list.end(), [](const State& s) { return !s.follower.outbox->closed(); }));
  }
  return count;
}

}  // namespace vigie
