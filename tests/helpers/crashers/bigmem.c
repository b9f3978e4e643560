// bigmem MEGABYTES [STAMP_FILE]: dirties MEGABYTES of memory (a page-varying pattern, so the
// core is neither all zeros nor incompressible), then segfaults. With STAMP_FILE, writes
// CLOCK_MONOTONIC (ns, as text) there right before the fault: the bench measures from it.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

__attribute__((noinline)) void fault_after_dirtying(volatile char* target) { *target = 1; }

int main(int argc, char** argv) {
  if (argc < 2) {
    fputs("usage: bigmem MEGABYTES [STAMP_FILE]\n", stderr);
    return 2;
  }
  const size_t bytes = (size_t)strtoul(argv[1], NULL, 10) << 20;
  unsigned char* memory = malloc(bytes);
  if (memory == NULL) {
    return 2;
  }
  for (size_t i = 0; i < bytes; i += 64) {
    memory[i] = (unsigned char)((i >> 12) * 31 + (i >> 6));
  }
  if (argc > 2) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    char text[32];
    const int length = snprintf(text, sizeof(text), "%lld\n",
                                (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
    const int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
      if (write(fd, text, (size_t)length) != length) {
        return 2;
      }
      close(fd);
    }
  }
  fault_after_dirtying(NULL);
  return memory[0];
}
