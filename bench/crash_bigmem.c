// crash_bigmem MEGABYTES STAMP_FILE: the workload of crash_incident. Appends "start NS PID"
// (CLOCK_MONOTONIC) to STAMP_FILE as soon as it runs, dirties MEGABYTES of memory (a pattern
// that varies per page), appends "ready NS PID", waits for SIGUSR1, appends "fault NS PID" and
// segfaults. The bench sends SIGUSR1 when it is ready to measure that crash: one crash at a
// time, never a free-running crash loop whose captures pile up on each other.
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t go = 0;

static void on_usr1(int sig) {
  (void)sig;
  go = 1;
}

static void stamp(const char* path, const char* what) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  char text[96];
  const int length = snprintf(text, sizeof(text), "%s %lld %d\n", what,
                              (long long)now.tv_sec * 1000000000LL + now.tv_nsec, (int)getpid());
  const int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) {
    if (write(fd, text, (size_t)length) != length) {
      _exit(2);
    }
    close(fd);
  }
}

__attribute__((noinline)) static void fault_here(volatile char* target) {
  *target = 1;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fputs("usage: crash_bigmem MEGABYTES STAMP_FILE\n", stderr);
    return 2;
  }
  stamp(argv[2], "start");
  const size_t bytes = (size_t)strtoul(argv[1], NULL, 10) << 20;
  unsigned char* memory = malloc(bytes);
  if (memory == NULL) {
    return 2;
  }
  for (size_t i = 0; i < bytes; i += 64) {
    memory[i] = (unsigned char)((i >> 12) * 31 + (i >> 6));
  }
  // SIGUSR1 is blocked before "ready" is written: one sent right after stays pending.
  struct sigaction action = {0};
  action.sa_handler = on_usr1;
  sigemptyset(&action.sa_mask);
  sigaction(SIGUSR1, &action, NULL);
  sigset_t usr1, waiting;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, &waiting);
  sigdelset(&waiting, SIGUSR1);
  stamp(argv[2], "ready");
  alarm(600);  // a bench that went away must not leave it waiting forever.
  while (!go) {
    sigsuspend(&waiting);
  }
  stamp(argv[2], "fault");
  fault_here((volatile char*)NULL);
  return memory[0];
}
