// A workload for integration tests: behaves as its arguments say, like a real program would.
//   test_workload exit CODE           exit at once with CODE
//   test_workload segv                dereference NULL
//   test_workload print TEXT CODE     print TEXT lines to stdout and "err:" TEXT to stderr, exit
//   test_workload ignore-term FILE    ignore SIGTERM, write FILE when ready, then wait forever
//   test_workload flood               write to stdout as fast as possible, forever
//   test_workload pidfile FILE        append our pid to FILE, then wait for a signal
//   test_workload env NAME            print the value of NAME and exit 0
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void touch(const char* path) {
  FILE* f = fopen(path, "a");
  if (f != NULL) {
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
  }
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
  fprintf(stderr, "test_workload: bad arguments\n");
  return 2;
}
