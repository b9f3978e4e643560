#include "agent/coredump/forwarder.h"

#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include <cerrno>

namespace vigie::coredump {

std::vector<std::string> expandPipePattern(const std::string& pattern,
                                           const std::map<char, std::string>& values) {
  std::vector<std::string> argv;
  std::string current;
  bool in_word = false;
  const size_t start = (!pattern.empty() && pattern[0] == '|') ? 1 : 0;
  for (size_t i = start; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == ' ') {
      if (in_word) {
        argv.push_back(std::move(current));
        current.clear();
        in_word = false;
      }
      continue;
    }
    in_word = true;
    if (c != '%' || i + 1 == pattern.size()) {
      current.push_back(c);
      continue;
    }
    const char specifier = pattern[++i];
    if (specifier == '%') {
      current.push_back('%');
    } else if (auto it = values.find(specifier); it != values.end()) {
      current += it->second;
    }
  }
  if (in_word) {
    argv.push_back(std::move(current));
  }
  return argv;
}

Result<ForwardProcess> startForward(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    return Error{"forward: the program must be an absolute path"};
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Error::fromErrno("forward: pipe");
  }
  UniqueFd read_end(fds[0]);
  ForwardProcess forward;
  forward.stdin_pipe.reset(fds[1]);
  (void)::fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, read_end.get(), STDIN_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const auto& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  // What the kernel gives its own core_pattern helpers.
  char home[] = "HOME=/";
  char path[] = "PATH=/sbin:/bin:/usr/sbin:/usr/bin";
  char* env[] = {home, path, nullptr};
  const int err = ::posix_spawn(&forward.pid, argv[0].c_str(), &actions, nullptr, args.data(), env);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) {
    return Error::fromErrno("forward: spawn " + argv[0], err);
  }
  return forward;
}

}  // namespace vigie::coredump
