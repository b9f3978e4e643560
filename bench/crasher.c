// bench_crasher RECORD_FILE: the crash-looping workload of bench/restart_latency.
//
// Each instance records when it started and, if the record file says it is one of the first
// `runs` instances, when it is about to exit, then exits 1 at once. Restart latency i is
// slot[i+1].start_ns - slot[i].exit_ns: kernel exit work, the supervisor's wake-up, reap,
// decision and spawn, exec and libc start-up. Instances past `runs` stay idle until the header's
// deadline so that the supervisor has something to stop at the end.
//
// Kept in C, without stdio, and linked statically when the toolchain allows, so that its own
// start-up cost is small and the same under every supervisor.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "record.h"

static inline int64_t nowNs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleepUntil(int64_t deadline_ns) {
  struct timespec ts = {.tv_sec = deadline_ns / 1000000000LL,
                        .tv_nsec = deadline_ns % 1000000000LL};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
}

// A supervisor without a throttle restarts us at once: a broken setup must not turn into a
// busy loop, so fail only after a pause.
static _Noreturn void dieSlowly(const char* what, const char* arg) {
  if (write(STDERR_FILENO, what, strlen(what)) < 0) {
  }
  if (arg != NULL && write(STDERR_FILENO, arg, strlen(arg)) < 0) {
  }
  if (write(STDERR_FILENO, "\n", 1) < 0) {
  }
  sleepUntil(nowNs() + 1000000000LL);
  _exit(2);
}

static _Noreturn void stayIdle(const volatile struct BenchRecordHeader* header) {
  // The supervisor stops us with a signal; make sure the default action applies even if the
  // spawner left signals blocked or ignored.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  int64_t deadline = header->idle_deadline_ns;
  const int64_t now = nowNs();
  const int64_t max_idle_ns = 3600LL * 1000000000LL;
  if (deadline <= now) {
    // Past the deadline already: exiting at once would make a restart loop of idle instances.
    deadline = now + 1000000000LL;
  } else if (deadline - now > max_idle_ns) {
    deadline = now + max_idle_ns;
  }
  sleepUntil(deadline);
  _exit(0);
}

int main(int argc, char** argv) {
  const int64_t start_ns = nowNs();

  if (argc < 2) {
    dieSlowly("usage: bench_crasher RECORD_FILE", NULL);
  }
  const int fd = open(argv[1], O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    dieSlowly("bench_crasher: cannot open ", argv[1]);
  }
  struct stat st;
  if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(struct BenchRecordHeader)) {
    dieSlowly("bench_crasher: record file too small: ", argv[1]);
  }
  void* map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (map == MAP_FAILED) {
    dieSlowly("bench_crasher: mmap failed: ", argv[1]);
  }
  struct BenchRecordHeader* header = (struct BenchRecordHeader*)map;
  if (header->magic != BENCH_RECORD_MAGIC || header->version != BENCH_RECORD_VERSION ||
      sizeof(struct BenchRecordHeader) + (size_t)header->slots * sizeof(struct BenchRecordSlot) >
          (size_t)st.st_size) {
    dieSlowly("bench_crasher: not a record file of this version: ", argv[1]);
  }

  const uint64_t index = __atomic_fetch_add(&header->counter, 1, __ATOMIC_SEQ_CST);
  if (index >= header->slots) {
    stayIdle(header);
  }
  struct BenchRecordSlot* slot = (struct BenchRecordSlot*)(header + 1) + index;
  __atomic_store_n(&slot->pid, (int32_t)getpid(), __ATOMIC_RELAXED);
  __atomic_store_n(&slot->start_ns, start_ns, __ATOMIC_RELEASE);
  if (index >= header->runs) {
    stayIdle(header);
  }

  // The store goes to a shared page: no system call lies between the timestamp and the exit.
  __atomic_store_n(&slot->exit_ns, nowNs(), __ATOMIC_RELEASE);
  _exit(1);
}
