#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vigie/cgroup.h"

namespace vigie::testing {

class FakeCgroupManager;

// A unit's cgroup that exists only in the test: it records what the unit asks of it, and its
// kill completes when the test says so (populated) or at once (empty).
class FakeUnitCgroup final : public UnitCgroup {
 public:
  FakeUnitCgroup(std::vector<std::string>& removed, std::string name, int id)
      : removed_(removed), name_(std::move(name)), id_(id) {}
  ~FakeUnitCgroup() override { removed_.push_back(name_); }

  std::string describe() const override { return "fake:/vigie/" + name_; }
  Status apply(const ResourcesSpec& resources) override {
    applied.push_back(resources);
    if (!apply_error.empty()) {
      return Error{apply_error, ENOTSUP};
    }
    return Status::okStatus();
  }
  CgroupPlacement placement() const override {
    CgroupPlacement placement;
    placement.cgroup2_dir_fd = 1000 + id_;
    return placement;
  }
  void beginInstance() override { ++begins; }
  CgroupInstanceStats endInstance() override {
    ++ends;
    CgroupInstanceStats stats = next_stats;
    next_stats = {};
    return stats;
  }
  void killAll(std::function<void()> on_empty) override {
    ++kills;
    if (!populated) {
      killing_ = false;
      if (on_empty) {
        on_empty();
      }
      return;
    }
    killing_ = true;
    pending_ = std::move(on_empty);
  }
  bool killing() const override { return killing_; }
  bool startsWhileKilling() const override { return starts_while_killing; }

  // The last process left the cgroup.
  void empty() {
    populated = false;
    killing_ = false;
    auto on_empty = std::move(pending_);
    pending_ = nullptr;
    if (on_empty) {
      on_empty();
    }
  }

  std::vector<ResourcesSpec> applied;
  std::string apply_error;
  int begins = 0;
  int ends = 0;
  int kills = 0;
  CgroupInstanceStats next_stats;  // what the next endInstance() reports.
  bool populated = false;          // whether a kill has to wait for empty().
  bool starts_while_killing = true;

 private:
  std::vector<std::string>& removed_;
  std::string name_;
  int id_;
  bool killing_ = false;
  std::function<void()> pending_;
};

class FakeCgroupManager final : public CgroupManager {
 public:
  CgroupLayout layout() const override { return CgroupLayout::kUnified; }
  Result<UnitCgroupPtr> createUnit(const std::string& unit,
                                   const ResourcesSpec& resources) override {
    ++creates;
    if (!create_error.empty()) {
      return Error{create_error, ENOTSUP};
    }
    auto cgroup = std::make_unique<FakeUnitCgroup>(removed, unit, creates);
    if (Status applied = cgroup->apply(resources); !applied) {
      return applied.error();
    }
    units[unit] = cgroup.get();
    return UnitCgroupPtr(std::move(cgroup));
  }

  int creates = 0;
  std::string create_error;                      // the next creations fail with it.
  std::map<std::string, FakeUnitCgroup*> units;  // valid while the unit lives.
  std::vector<std::string> removed;              // units whose cgroup was destroyed.
};

}  // namespace vigie::testing
