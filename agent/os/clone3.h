// clone3(2) for the spawner: glibc 2.36 has no wrapper, and a raw syscall() cannot start a child
// on a new stack (the child would return through the parent's frame). On x86-64 a few lines of
// assembly do what glibc's clone() does: the child calls `fn(arg)` on the stack given in `args`
// and exits with its result. Elsewhere it reports ENOSYS, and callers use clone().
#pragma once

#include <cstdint>

namespace vigie {

// The kernel's struct clone_args (CLONE_ARGS_SIZE_VER2: with `cgroup`, Linux 5.7+).
struct CloneArgs {
  uint64_t flags = 0;
  uint64_t pidfd = 0;  // int* written with the pidfd (CLONE_PIDFD).
  uint64_t child_tid = 0;
  uint64_t parent_tid = 0;
  uint64_t exit_signal = 0;
  uint64_t stack = 0;  // lowest address of the child's stack.
  uint64_t stack_size = 0;
  uint64_t tls = 0;
  uint64_t set_tid = 0;
  uint64_t set_tid_size = 0;
  uint64_t cgroup = 0;  // a cgroup2 directory fd (CLONE_INTO_CGROUP).
};

inline constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;

// The child's pid in the parent, or -errno (-ENOSYS where unsupported).
long clone3Run(CloneArgs* args, int (*fn)(void*), void* arg);

}  // namespace vigie
