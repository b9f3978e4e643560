#include "agent/os/linux_spawner.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "agent/os/pidfd.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "agent/os/clone3.h"
#include "agent/os/proc_stat.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace vigie {
namespace {

constexpr size_t kChildStackSize = size_t{128} * 1024;

// Shared with the child through CLONE_VM. The child writes only the two error fields.
struct ChildArgs {
  const int* cgroup_procs_fds;  // cgroup.procs files to join before anything else.
  size_t cgroup_procs_count;
  const char* path;
  char* const* argv;
  char* const* envp;
  const char* cwd;
  int stdin_fd;
  int stdout_fd;
  int stderr_fd;
  const sigset_t* reset_signals;
  unsigned int umask;
  const ResourceLimit* rlimits;
  size_t rlimit_count;
  const char* oom_score_adj;  // text to write to /proc/self/oom_score_adj, or null.
  size_t oom_score_adj_len;
  bool change_credentials;
  uid_t uid;
  gid_t gid;
  const gid_t* groups;
  size_t group_count;
  int failed_errno;
  const char* failed_step;
};

// The kernel's struct sigaction for rt_sigaction(2): glibc's differs, and its wrapper may be
// intercepted by sanitizers, which must not run on the child's borrowed stack.
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  uint64_t mask;
};

// Makes `from` the child's `to`, clearing CLOEXEC (dup3 refuses equal fds, so handle that).
__attribute__((no_sanitize("address", "undefined"))) long moveFd(int from, int to) {
  if (from == to) {
    return syscall(SYS_fcntl, to, F_SETFD, 0);
  }
  return syscall(SYS_dup3, from, to, 0);
}

// Runs in the child, in the parent's memory, until execve. Raw system calls only: no
// allocation, no locks, no libc state.
__attribute__((no_sanitize("address", "undefined"))) int childMain(void* raw) {
  auto* args = static_cast<ChildArgs*>(raw);
  // Join the unit's cgroups first, so that everything the child does is accounted there.
  for (size_t i = 0; i < args->cgroup_procs_count; ++i) {
    if (syscall(SYS_pwrite64, args->cgroup_procs_fds[i], "0", 1, 0) < 0) {
      args->failed_errno = errno;
      args->failed_step = "join cgroup";
      syscall(SYS_exit_group, 127);
    }
  }
  KernelSigaction default_action{};
  default_action.handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sigismember(args->reset_signals, sig) == 1) {
      syscall(SYS_rt_sigaction, sig, &default_action, nullptr, sizeof(uint64_t));
    }
  }
  uint64_t empty_mask = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty_mask, nullptr, sizeof(uint64_t));
  syscall(SYS_setsid);
  for (size_t i = 0; i < args->rlimit_count; ++i) {
    const uint64_t limit[2] = {args->rlimits[i].soft, args->rlimits[i].hard};
    if (syscall(SYS_prlimit64, 0, args->rlimits[i].resource, limit, nullptr) != 0) {
      args->failed_errno = errno;
      args->failed_step = "setrlimit";
      syscall(SYS_exit_group, 127);
    }
  }
  if (args->oom_score_adj != nullptr) {
    // Before dropping privileges: lowering the score needs CAP_SYS_RESOURCE.
    const long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || syscall(SYS_write, fd, args->oom_score_adj, args->oom_score_adj_len) < 0) {
      args->failed_errno = errno;
      args->failed_step = "oom_score_adj";
      syscall(SYS_exit_group, 127);
    }
    syscall(SYS_close, fd);
  }
  if (args->change_credentials) {
    // Groups first, then gid, then uid: each step needs the privileges the next one drops.
    if (syscall(SYS_setgroups, args->group_count, args->groups) != 0 ||
        syscall(SYS_setresgid, args->gid, args->gid, args->gid) != 0 ||
        syscall(SYS_setresuid, args->uid, args->uid, args->uid) != 0) {
      args->failed_errno = errno;
      args->failed_step = "set user and groups";
      syscall(SYS_exit_group, 127);
    }
  }
  if (moveFd(args->stdin_fd, 0) < 0 || moveFd(args->stdout_fd, 1) < 0 ||
      moveFd(args->stderr_fd, 2) < 0) {
    args->failed_errno = errno;
    args->failed_step = "dup stdio";
    syscall(SYS_exit_group, 127);
  }
  // Every fd of ours is CLOEXEC already; this also catches fds a library leaked. ENOSYS on
  // kernels before 5.9 is fine for the same reason.
  syscall(SYS_close_range, 3U, ~0U, 0U);
  syscall(SYS_umask, args->umask);
  if (args->cwd != nullptr && syscall(SYS_chdir, args->cwd) != 0) {
    args->failed_errno = errno;
    args->failed_step = "chdir";
    syscall(SYS_exit_group, 127);
  }
  syscall(SYS_execve, args->path, args->argv, args->envp);
  args->failed_errno = errno;
  args->failed_step = "exec";
  syscall(SYS_exit_group, 127);
  return 127;
}

std::vector<char*> cStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) {
    out.push_back(const_cast<char*>(s.c_str()));
  }
  out.push_back(nullptr);
  return out;
}

std::string pathFromEnv(const std::vector<std::string>& env) {
  for (const auto& entry : env) {
    if (entry.rfind("PATH=", 0) == 0) {
      return entry.substr(5);
    }
  }
  return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> makeOutputPipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Error::fromErrno("pipe2");
  }
  Pipe p{UniqueFd(fds[0]), UniqueFd(fds[1])};
  // Only our end is non-blocking: the workload writes to a normal blocking pipe.
  if (::fcntl(p.read.get(), F_SETFL, O_NONBLOCK) != 0) {
    return Error::fromErrno("fcntl(O_NONBLOCK)");
  }
  return p;
}

class LinuxProcess final : public Process {
 public:
  LinuxProcess(Dispatcher& dispatcher, std::unordered_set<pid_t>& tracked, pid_t pid,
               UniqueFd pidfd, UniqueFd out, UniqueFd err, ExitCallback on_exit)
      : dispatcher_(dispatcher),
        tracked_(tracked),
        pid_(pid),
        pidfd_(std::move(pidfd)),
        stdout_(std::move(out)),
        stderr_(std::move(err)),
        on_exit_(std::move(on_exit)) {
    start_ticks_ = readProcStartTicks(pid_).value_or(0);
    tracked_.insert(pid_);
  }
  ~LinuxProcess() override {
    if (!reaped_) {
      tracked_.erase(pid_);  // after a reap the pid may already belong to a new process.
    }
  }

  Status watch() {
    watch_ = dispatcher_.watchFd(pidfd_.get(), kFdReadable, [this](uint32_t) { onPidfdReady(); });
    if (!watch_) {
      return Error::fromErrno("epoll_ctl(pidfd)");
    }
    return Status::okStatus();
  }

  pid_t pid() const override { return pid_; }
  uint64_t startTicks() const override { return start_ticks_; }
  bool exited() const override { return reaped_; }

  Status signal(int sig) override {
    if (reaped_) {
      return Status::okStatus();
    }
    if (pidfdSendSignal(pidfd_.get(), sig) != 0 && errno != ESRCH) {
      return Error::fromErrno("pidfd_send_signal");
    }
    return Status::okStatus();
  }

  Status signalGroup(int sig) override {
    // Safe only while the leader is unreaped: until then its pid, and so the group id, cannot
    // be reused. We reap in onPidfdReady() only, on this same thread.
    if (reaped_) {
      return Status::okStatus();
    }
    if (::kill(-pid_, sig) != 0 && errno != ESRCH) {
      return Error::fromErrno("kill(process group)");
    }
    return Status::okStatus();
  }

  int takeStdout() override { return stdout_.release(); }
  int takeStderr() override { return stderr_.release(); }

 private:
  void onPidfdReady() {
    siginfo_t info{};
    if (::waitid(static_cast<idtype_t>(P_PIDFD), pidfd_.get(), &info,
                 WEXITED | WNOHANG | WNOWAIT | __WALL) != 0) {
      if (errno == ECHILD) {
        // Reaped behind our back: report it rather than spin on a pidfd that stays readable.
        finish(ExitStatus{ExitStatus::Kind::kLost, 0, 0}, {});
      }
      return;
    }
    if (info.si_pid == 0) {
      return;
    }
    // The leader is a zombie but not reaped: its group id is still ours to signal. Nothing of
    // the instance may outlive it.
    ::kill(-pid_, SIGKILL);
    struct rusage usage {};
    info = siginfo_t{};
    if (::syscall(SYS_waitid, P_PIDFD, pidfd_.get(), &info, WEXITED | WNOHANG | __WALL, &usage) !=
        0) {
      return;
    }
    ExitStatus status;
    if (info.si_code == CLD_EXITED) {
      status.kind = ExitStatus::Kind::kExited;
      status.code = info.si_status;
    } else {
      status.kind =
          info.si_code == CLD_DUMPED ? ExitStatus::Kind::kDumped : ExitStatus::Kind::kKilled;
      status.signal = info.si_status;
    }
    finish(status, usage);
  }

  void finish(ExitStatus status, const struct rusage& usage) {
    reaped_ = true;
    tracked_.erase(pid_);
    watch_.reset();
    pidfd_.reset();
    status.at_mono = dispatcher_.monotonicNow();
    status.at_wall = dispatcher_.wallNow();
    status.usage = usage;
    // The callback may destroy this object: run it from the stack, and touch nothing after.
    auto on_exit = std::move(on_exit_);
    on_exit(status);
  }

  Dispatcher& dispatcher_;
  std::unordered_set<pid_t>& tracked_;
  pid_t pid_;
  uint64_t start_ticks_ = 0;
  UniqueFd pidfd_;
  UniqueFd stdout_;
  UniqueFd stderr_;
  ExitCallback on_exit_;
  FdWatchPtr watch_;
  bool reaped_ = false;
};

}  // namespace

Result<std::string> resolveExecutable(const std::string& name, const std::string& path_env) {
  if (name.empty()) {
    return Error{"empty program name", ENOENT};
  }
  if (name.find('/') != std::string::npos) {
    return name;
  }
  std::stringstream dirs(path_env);
  std::string dir;
  int last_errno = ENOENT;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    last_errno = EACCES;
  }
  if (last_errno == EACCES) {
    return Error{"'" + name + "' found in PATH but not executable", EACCES};
  }
  return Error{"'" + name + "' not found in PATH (" + path_env + ")", ENOENT};
}

Result<std::unique_ptr<LinuxProcessSpawner>> LinuxProcessSpawner::create(Dispatcher& dispatcher) {
  UniqueFd dev_null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!dev_null) {
    return Error::fromErrno("open /dev/null");
  }
  void* stack = ::mmap(nullptr, kChildStackSize, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    return Error::fromErrno("mmap(child stack)");
  }
  // Reset in the child whatever is not SIG_DFL here: SIGPIPE, ignored by the agent, and any
  // disposition inherited from whoever started us. Computed once, not per spawn.
  sigset_t reset;
  sigemptyset(&reset);
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction current {};
    if (sig != SIGKILL && sig != SIGSTOP && ::sigaction(sig, nullptr, &current) == 0 &&
        current.sa_handler != SIG_DFL) {
      sigaddset(&reset, sig);
    }
  }
  return std::unique_ptr<LinuxProcessSpawner>(
      new LinuxProcessSpawner(dispatcher, std::move(dev_null), stack, kChildStackSize, reset));
}

LinuxProcessSpawner::LinuxProcessSpawner(Dispatcher& dispatcher, UniqueFd dev_null, void* stack,
                                         size_t stack_size, const sigset_t& reset_signals)
    : dispatcher_(dispatcher),
      dev_null_(std::move(dev_null)),
      stack_(stack),
      stack_size_(stack_size),
      reset_signals_(reset_signals) {}

LinuxProcessSpawner::~LinuxProcessSpawner() {
  ::munmap(stack_, stack_size_);
}

Result<ProcessPtr> LinuxProcessSpawner::spawn(const SpawnSpec& spec,
                                              Process::ExitCallback on_exit) {
  if (spec.argv.empty()) {
    return Error{"empty command line", EINVAL};
  }
  auto path = resolveExecutable(spec.argv[0], pathFromEnv(spec.env));
  if (!path) {
    return path.error();
  }
  Pipe out, err;
  if (spec.capture_output) {
    auto out_pipe = makeOutputPipe();
    if (!out_pipe) {
      return out_pipe.error();
    }
    auto err_pipe = makeOutputPipe();
    if (!err_pipe) {
      return err_pipe.error();
    }
    out = std::move(*out_pipe);
    err = std::move(*err_pipe);
  }
  std::vector<char*> argv = cStrings(spec.argv);
  std::vector<char*> envp = cStrings(spec.env);

  // cgroup2: clone3(CLONE_INTO_CGROUP) starts the child in its cgroup, so it never runs outside
  // it, and costs no cgroup.procs write. v1 (and cgroup2 without clone3): the child writes "0"
  // into each cgroup.procs before exec.
  const bool into_cgroup = spec.cgroup.cgroup2_dir_fd >= 0 && clone3_into_cgroup_;
  std::vector<int> procs_fds = spec.cgroup.v1_procs_fds;
  if (spec.cgroup.cgroup2_dir_fd >= 0 && !into_cgroup && spec.cgroup.cgroup2_procs_fd >= 0) {
    procs_fds.push_back(spec.cgroup.cgroup2_procs_fd);
  }

  ChildArgs args{};
  args.cgroup_procs_fds = procs_fds.data();
  args.cgroup_procs_count = procs_fds.size();
  args.path = path->c_str();
  args.argv = argv.data();
  args.envp = envp.data();
  args.cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();
  args.stdin_fd = dev_null_.get();
  args.stdout_fd = out.write ? out.write.get() : dev_null_.get();
  args.stderr_fd = err.write ? err.write.get() : dev_null_.get();
  args.reset_signals = &reset_signals_;
  args.umask = spec.umask;
  args.rlimits = spec.rlimits.data();
  args.rlimit_count = spec.rlimits.size();
  std::string oom_text;
  if (spec.oom_score_adj) {
    oom_text = std::to_string(*spec.oom_score_adj);
    args.oom_score_adj = oom_text.c_str();
    args.oom_score_adj_len = oom_text.size();
  }
  if (spec.credentials) {
    args.change_credentials = true;
    args.uid = spec.credentials->uid;
    args.gid = spec.credentials->gid;
    args.groups = spec.credentials->groups.data();
    args.group_count = spec.credentials->groups.size();
  }

  int pidfd = -1;
  pid_t pid = -1;
  if (into_cgroup) {
    CloneArgs clone_args;
    clone_args.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | kCloneIntoCgroup;
    clone_args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
    clone_args.exit_signal = SIGCHLD;
    clone_args.stack = reinterpret_cast<uint64_t>(stack_);
    clone_args.stack_size = stack_size_;
    clone_args.cgroup = static_cast<uint64_t>(spec.cgroup.cgroup2_dir_fd);
    const long result = clone3Run(&clone_args, childMain, &args);
    if (result == -ENOSYS || result == -E2BIG || result == -EINVAL) {
      // No clone3, or a kernel before 5.7 without CLONE_INTO_CGROUP: join through cgroup.procs
      // from now on.
      clone3_into_cgroup_ = false;
      return spawn(spec, std::move(on_exit));
    }
    if (result < 0) {
      return Error::fromErrno("clone3 into cgroup", static_cast<int>(-result));
    }
    pid = static_cast<pid_t>(result);
  } else {
    char* stack_top = static_cast<char*>(stack_) + stack_size_;
    // Our children are watched through pidfds; SIGCHLD (which exec makes every child send) only
    // wakes the orphan reaper, which skips tracked pids.
    pid = ::clone(childMain, stack_top, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &args,
                  &pidfd);
    if (pid < 0) {
      return Error::fromErrno("clone");
    }
  }
  UniqueFd pidfd_owner(pidfd);
  if (args.failed_step != nullptr) {
    // The child is gone already: reap it so it leaves no zombie.
    siginfo_t info{};
    ::waitid(static_cast<idtype_t>(P_PIDFD), pidfd_owner.get(), &info, WEXITED | __WALL);
    return Error{
        std::string(args.failed_step) + " " + *path + ": " + std::strerror(args.failed_errno),
        args.failed_errno};
  }
  auto process =
      std::make_unique<LinuxProcess>(dispatcher_, tracked_, pid, std::move(pidfd_owner),
                                     std::move(out.read), std::move(err.read), std::move(on_exit));
  if (auto watched = process->watch(); !watched) {
    process->signal(SIGKILL).ok();
    return watched.error();
  }
  return ProcessPtr(std::move(process));
}

Result<ProcessPtr> LinuxProcessSpawner::adopt(pid_t pid, Process::ExitCallback on_exit) {
  UniqueFd pidfd(pidfdOpen(pid, 0));
  if (!pidfd) {
    return Error::fromErrno("pidfd_open(" + std::to_string(pid) + ")");
  }
  auto process = std::make_unique<LinuxProcess>(dispatcher_, tracked_, pid, std::move(pidfd),
                                                UniqueFd(), UniqueFd(), std::move(on_exit));
  if (auto watched = process->watch(); !watched) {
    return watched.error();
  }
  return ProcessPtr(std::move(process));
}

}  // namespace vigie
