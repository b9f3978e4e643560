#include "agent/os/clone3.h"

#include <sys/syscall.h>

#include <cerrno>

namespace vigie {

#if defined(__x86_64__) && defined(SYS_clone3)

// No sanitizer code here: the child runs this on a bare stack until it calls `fn`.
__attribute__((noinline, no_sanitize("address", "undefined"))) long clone3Run(CloneArgs* args,
                                                                              int (*fn)(void*),
                                                                              void* arg) {
  // The child gets a copy of these registers; rcx and r11 are the only ones syscall clobbers.
  register long fn_reg __asm__("r8") = reinterpret_cast<long>(fn);
  register long arg_reg __asm__("r9") = reinterpret_cast<long>(arg);
  long ret = SYS_clone3;
  __asm__ volatile(
      "syscall\n\t"
      "testq %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      // The child, on its own stack: no frame to return to.
      "xorl %%ebp, %%ebp\n\t"
      "andq $-16, %%rsp\n\t"
      "movq %%r9, %%rdi\n\t"
      "callq *%%r8\n\t"
      "movl %%eax, %%edi\n\t"
      "movl %[exit_group], %%eax\n\t"
      "syscall\n\t"
      "hlt\n\t"
      "1:\n\t"
      : "+a"(ret)
      : "D"(args), "S"(sizeof(CloneArgs)), "r"(fn_reg),
        "r"(arg_reg), [exit_group] "i"(SYS_exit_group)
      : "rcx", "r11", "memory", "cc");
  return ret;
}

#else

long clone3Run(CloneArgs*, int (*)(void*), void*) {
  return -ENOSYS;
}

#endif

}  // namespace vigie
