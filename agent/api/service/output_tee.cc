#include "agent/api/service/output_tee.h"

#include <utility>

namespace vigie {
namespace {

class TeeOutput final : public UnitOutput {
 public:
  TeeOutput(std::string unit, std::unique_ptr<UnitOutput> next, OutputHub& hub)
      : unit_(std::move(unit)), next_(std::move(next)), hub_(hub) {}

  void instanceStarted(uint64_t instance_id, pid_t pid) override {
    if (next_) {
      next_->instanceStarted(instance_id, pid);
    }
  }
  void write(OutputStream stream, uint64_t instance_id, std::string_view data) override {
    if (next_) {
      next_->write(stream, instance_id, data);
    }
    hub_.write(unit_, stream, instance_id, data);
  }

 private:
  const std::string unit_;
  std::unique_ptr<UnitOutput> next_;
  OutputHub& hub_;
};

}  // namespace

std::unique_ptr<UnitOutput> OutputTee::open(const std::string& unit, const OutputSpec& spec) {
  std::unique_ptr<UnitOutput> next = next_ != nullptr ? next_->open(unit, spec) : nullptr;
  return std::make_unique<TeeOutput>(unit, std::move(next), hub_);
}

}  // namespace vigie
