// A workload for the cgroup integration tests: behaves as its arguments say.
//   cgroup_workload hog-once FILE MB   if FILE exists: exit 0. Else create FILE, then allocate and
//                                      touch MB MiB (the OOM killer should stop it), exit 3
//   cgroup_workload forks N FILE       fork N children that wait; write "forked K errno E" into
//                                      FILE (atomically), then wait for a signal
//   cgroup_workload daemonize N FILE   start N grandchildren that leave our session, ignore
//                                      SIGTERM and SIGHUP and append their pids to FILE; then
//                                      wait for a signal (SIGTERM ends us, not them)
//   cgroup_workload cgroup FILE        copy /proc/self/cgroup into FILE (atomically), exit 0
//   cgroup_workload burn MS            use the CPU for MS milliseconds, exit 0
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int writeAtomically(const char* path, const char* text, size_t length) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  const int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, text, length) != (ssize_t)length || close(fd) != 0) {
    return 1;
  }
  return rename(tmp, path) == 0 ? 0 : 1;
}

static void waitForever(void) {
  for (;;) {
    pause();
  }
}

static int hogOnce(const char* marker, long megabytes) {
  struct stat st;
  if (stat(marker, &st) == 0) {
    return 0;
  }
  const int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    close(fd);
  }
  const size_t chunk = (size_t)1 << 20;
  for (long i = 0; i < megabytes; ++i) {
    char* block = malloc(chunk);
    if (block == NULL) {
      return 4;
    }
    memset(block, 0x5a, chunk);  // touched: charged to the memory cgroup.
  }
  return 3;
}

static int forks(int count, const char* path) {
  int forked = 0;
  int error = 0;
  for (int i = 0; i < count; ++i) {
    const pid_t pid = fork();
    if (pid < 0) {
      error = errno;
      break;
    }
    if (pid == 0) {
      waitForever();
    }
    ++forked;
  }
  char text[128];
  const int length = snprintf(text, sizeof text, "forked %d errno %d\n", forked, error);
  if (writeAtomically(path, text, (size_t)length) != 0) {
    return 1;
  }
  waitForever();
  return 0;
}

static int daemonize(int count, const char* path) {
  for (int i = 0; i < count; ++i) {
    const pid_t child = fork();
    if (child < 0) {
      return 1;
    }
    if (child > 0) {
      continue;
    }
    // The classic double fork: the grandchild is re-parented away from us and has its own
    // session, so neither our process group nor our exit reaches it.
    if (fork() != 0) {
      _exit(0);
    }
    setsid();
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    char line[32];
    const int length = snprintf(line, sizeof line, "%d\n", (int)getpid());
    const int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      if (write(fd, line, (size_t)length) != length) {
        _exit(1);
      }
      close(fd);
    }
    waitForever();
  }
  waitForever();
  return 0;
}

static int copyCgroup(const char* path) {
  char text[4096];
  const int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return 1;
  }
  const ssize_t n = read(fd, text, sizeof text);
  close(fd);
  if (n <= 0) {
    return 1;
  }
  return writeAtomically(path, text, (size_t)n);
}

static int burn(long milliseconds) {
  struct timespec start;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  volatile unsigned long counter = 0;
  do {
    for (int i = 0; i < 100000; ++i) {
      counter = counter + 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 <
           milliseconds);
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 4 && strcmp(argv[1], "hog-once") == 0) {
    return hogOnce(argv[2], atol(argv[3]));
  }
  if (argc >= 4 && strcmp(argv[1], "forks") == 0) {
    return forks(atoi(argv[2]), argv[3]);
  }
  if (argc >= 4 && strcmp(argv[1], "daemonize") == 0) {
    return daemonize(atoi(argv[2]), argv[3]);
  }
  if (argc >= 3 && strcmp(argv[1], "cgroup") == 0) {
    return copyCgroup(argv[2]);
  }
  if (argc >= 3 && strcmp(argv[1], "burn") == 0) {
    return burn(atol(argv[2]));
  }
  fprintf(stderr, "usage: cgroup_workload hog-once|forks|daemonize|cgroup|burn ...\n");
  return 2;
}
