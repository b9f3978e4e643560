#pragma once

// build/bin/vigiectl run by the black-box tests, with its stdout and stderr in files.

#include <functional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/harness.h"

namespace vigie::testing {

// ASan makes both binaries slower; the deadline only bounds a hang.
inline constexpr Duration kCliTimeout = 30s;

std::string vigiectlPath();  // build/bin/vigiectl

struct CliOptions {
  std::vector<std::pair<std::string, std::string>> env = {};
  bool as_nobody = false;  // setpriv to uid/gid 65534 with no supplementary groups
};

// build/bin/vigiectl as a child, stdout and stderr into files under `dir`. Killed and reaped on
// destruction if still running (the -f commands never end by themselves). VIGIE_SOCKET is not
// passed on: the tests choose the socket on the command line, unless they test the variable.
class CliProcess {
 public:
  CliProcess(const TempDir& dir, const std::vector<std::string>& args,
             const CliOptions& options = {});
  ~CliProcess() { kill(); }
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;

  void kill();
  bool waitExit(Duration timeout = kCliTimeout);
  bool running();

  int exitCode() const;
  std::string out() const { return readFile(out_path_); }
  std::string err() const { return readFile(err_path_); }
  const std::string& description() const { return description_; }

  bool waitForOutput(const std::function<bool(const std::string&)>& pred,
                     Duration timeout = kWaitTimeout) {
    return pollUntil([&] { return pred(out()); }, timeout);
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string out_path_;
  std::string err_path_;
  std::string description_;
};

// A finished vigiectl run.
struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::string command;
};

std::ostream& operator<<(std::ostream& stream, const CliResult& result);

// Runs vigiectl to its end (REQUIREs that it ends within `timeout`).
CliResult runCli(const TempDir& dir, const std::vector<std::string>& args,
                 const CliOptions& options = {}, Duration timeout = kCliTimeout);

}  // namespace vigie::testing
