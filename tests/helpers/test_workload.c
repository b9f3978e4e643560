// A workload for integration tests: behaves as its arguments say, like a real program would.
//   test_workload exit CODE           exit at once with CODE
//   test_workload segv                dereference NULL
//   test_workload print TEXT CODE     print TEXT lines to stdout and "err:" TEXT to stderr, exit
//   test_workload ignore-term FILE    ignore SIGTERM, write FILE when ready, then wait forever
//   test_workload flood               write to stdout as fast as possible, forever
//   test_workload pidfile FILE        append our pid to FILE, then wait for a signal
//   test_workload env NAME            print the value of NAME and exit 0
//   test_workload sleep-exit MS CODE  sleep MS milliseconds, then exit with CODE
//   test_workload fds FILE            write "pid/sid/pgid" lines and one "fd N TARGET" line per
//                                     open fd into FILE (atomically: FILE.tmp then rename), exit 0
//   test_workload environ FILE        write the whole environment into FILE (atomically), exit 0
//   test_workload orphan FILE         fork a child that leaves our session (so that it outlives
//                                     us), appends its pid to FILE and exits once FILE.go exists;
//                                     exit 0 as soon as the child has left
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static void touch(const char* path) {
  FILE* f = fopen(path, "a");
  if (f != NULL) {
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
  }
}

// Opens PATH.tmp for writing; commit() renames it to PATH so that readers never see half a file.
static FILE* openTemp(const char* path, char* tmp, size_t tmp_size) {
  snprintf(tmp, tmp_size, "%s.tmp", path);
  return fopen(tmp, "w");
}

static int commit(FILE* f, const char* tmp, const char* path) {
  if (fclose(f) != 0 || rename(tmp, path) != 0) {
    return 1;
  }
  return 0;
}

static int listFds(const char* path) {
  // Read the fd list before opening the output file, so that it does not show up in it.
  char lines[256][320];
  int count = 0;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == NULL) {
    return 1;
  }
  const int dir_fd = dirfd(dir);
  struct dirent* entry;
  while ((entry = readdir(dir)) != NULL && count < 256) {
    if (entry->d_name[0] == '.') {
      continue;
    }
    const int fd = atoi(entry->d_name);
    if (fd == dir_fd) {
      continue;
    }
    char link[64];
    char target[256];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    const ssize_t n = readlink(link, target, sizeof(target) - 1);
    target[n > 0 ? n : 0] = '\0';
    snprintf(lines[count++], sizeof(lines[0]), "fd %d %s\n", fd, target);
  }
  closedir(dir);
  char tmp[4096];
  FILE* f = openTemp(path, tmp, sizeof(tmp));
  if (f == NULL) {
    return 1;
  }
  fprintf(f, "pid %d\nsid %d\npgid %d\n", (int)getpid(), (int)getsid(0), (int)getpgid(0));
  for (int i = 0; i < count; ++i) {
    fputs(lines[i], f);
  }
  return commit(f, tmp, path);
}

static int dumpEnviron(const char* path) {
  char tmp[4096];
  FILE* f = openTemp(path, tmp, sizeof(tmp));
  if (f == NULL) {
    return 1;
  }
  for (char** entry = environ; *entry != NULL; ++entry) {
    fprintf(f, "%s\n", *entry);
  }
  return commit(f, tmp, path);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test_workload MODE ...\n");
    return 2;
  }
  const char* mode = argv[1];
  if (strcmp(mode, "exit") == 0 && argc >= 3) {
    return atoi(argv[2]);
  }
  if (strcmp(mode, "segv") == 0) {
    volatile int* volatile p = NULL;
    *p = 1;
    return 0;
  }
  if (strcmp(mode, "print") == 0 && argc >= 4) {
    for (int i = 1; i <= 3; ++i) {
      printf("%s %d\n", argv[2], i);
    }
    fprintf(stderr, "err: %s\n", argv[2]);
    fflush(stdout);
    return atoi(argv[3]);
  }
  if (strcmp(mode, "ignore-term") == 0 && argc >= 3) {
    signal(SIGTERM, SIG_IGN);
    touch(argv[2]);
    for (;;) {
      pause();
    }
  }
  if (strcmp(mode, "flood") == 0) {
    static char line[4096];
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\n';
    for (;;) {
      if (write(1, line, sizeof(line)) < 0) {
        return 1;
      }
    }
  }
  if (strcmp(mode, "pidfile") == 0 && argc >= 3) {
    touch(argv[2]);
    for (;;) {
      pause();
    }
  }
  if (strcmp(mode, "env") == 0 && argc >= 3) {
    const char* value = getenv(argv[2]);
    printf("%s=%s\n", argv[2], value != NULL ? value : "(unset)");
    return 0;
  }
  if (strcmp(mode, "sleep-exit") == 0 && argc >= 4) {
    const long ms = atol(argv[2]);
    struct timespec delay = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&delay, &delay) != 0 && errno == EINTR) {
    }
    return atoi(argv[3]);
  }
  if (strcmp(mode, "fds") == 0 && argc >= 3) {
    return listFds(argv[2]);
  }
  if (strcmp(mode, "environ") == 0 && argc >= 3) {
    return dumpEnviron(argv[2]);
  }
  if (strcmp(mode, "orphan") == 0 && argc >= 3) {
    // The parent exits only once the child has left its session: the agent SIGKILLs what is
    // left of an instance's process group when the instance ends.
    int ready[2];
    if (pipe(ready) != 0) {
      return 1;
    }
    const pid_t child = fork();
    if (child == 0) {
      close(ready[0]);
      setsid();
      const int null_fd = open("/dev/null", O_RDWR);
      dup2(null_fd, 1);
      dup2(null_fd, 2);
      close(null_fd);
      touch(argv[2]);
      close(ready[1]);
      char go[4096];
      snprintf(go, sizeof(go), "%s.go", argv[2]);
      while (access(go, F_OK) != 0) {
        usleep(10000);
      }
      return 0;
    }
    close(ready[1]);
    char byte;
    while (read(ready[0], &byte, 1) > 0) {
    }
    return child > 0 ? 0 : 1;
  }
  fprintf(stderr, "test_workload: bad arguments\n");
  return 2;
}
