// A workload for the health tests: servers that fall ill on cue, sd_notify senders, a hung probe.
//   health_workload http PORT FLAG    HTTP/1.0 server on 127.0.0.1:PORT: 200 to every request,
//                                     500 while the file FLAG exists
//   health_workload tcp PORT FLAG     accepts and closes connections on 127.0.0.1:PORT; closes
//                                     its listening socket at the first connection that finds
//                                     FLAG, then waits for a signal
//   health_workload notify            STATUS=warming up, then at SIGUSR1: READY=1 and
//                                     STATUS=serving, then waits for a signal
//   health_workload watchdog N MS     READY=1, N times WATCHDOG=1 MS milliseconds apart, then
//                                     STATUS=hung and hangs in hang_without_pinging()
//   health_workload hang PIDFILE      appends its pid to PIDFILE and waits for a signal (a probe
//                                     that never answers)
// sd_notify datagrams go to $NOTIFY_SOCKET, like libsystemd's sd_notify() sends them.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int notify(const char* message) {
  const char* path = getenv("NOTIFY_SOCKET");
  if (path == NULL || strlen(path) >= sizeof(((struct sockaddr_un*)0)->sun_path)) {
    fprintf(stderr, "no usable NOTIFY_SOCKET\n");
    return -1;
  }
  struct sockaddr_un address;
  memset(&address, 0, sizeof(address));
  address.sun_family = AF_UNIX;
  strcpy(address.sun_path, path);
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  const ssize_t sent =
      sendto(fd, message, strlen(message), 0, (struct sockaddr*)&address, sizeof(address));
  close(fd);
  if (sent < 0) {
    perror("sendto NOTIFY_SOCKET");
    return -1;
  }
  return 0;
}

static int listenOn(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  struct sockaddr_in address;
  memset(&address, 0, sizeof(address));
  address.sin_family = AF_INET;
  address.sin_port = htons((unsigned short)port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr*)&address, sizeof(address)) != 0 || listen(fd, 16) != 0) {
    perror("bind/listen");
    exit(2);
  }
  return fd;
}

static int exists(const char* path) {
  struct stat st;
  return stat(path, &st) == 0;
}

__attribute__((noreturn)) static void waitForever(void) {
  for (;;) {
    pause();
  }
}

static int serveHttp(int port, const char* flag) {
  const int listener = listenOn(port);
  printf("listening on %d\n", port);
  fflush(stdout);
  for (;;) {
    const int conn = accept(listener, NULL, NULL);
    if (conn < 0) {
      continue;
    }
    // The request ends with an empty line; probes send it in one piece.
    char request[2048];
    size_t got = 0;
    while (got < sizeof(request) - 1) {
      const ssize_t n = read(conn, request + got, sizeof(request) - 1 - got);
      if (n <= 0) {
        break;
      }
      got += (size_t)n;
      request[got] = '\0';
      if (strstr(request, "\r\n\r\n") != NULL) {
        break;
      }
    }
    const char* answer = exists(flag) ? "HTTP/1.0 500 Internal Server Error\r\n\r\nbroken\n"
                                      : "HTTP/1.0 200 OK\r\n\r\nok\n";
    if (write(conn, answer, strlen(answer)) < 0) {
      perror("write");
    }
    close(conn);
  }
  return 0;
}

static int serveTcp(int port, const char* flag) {
  const int listener = listenOn(port);
  for (;;) {
    const int conn = accept(listener, NULL, NULL);
    if (conn >= 0) {
      close(conn);
    }
    if (exists(flag)) {
      close(listener);
      printf("port %d closed\n", port);
      fflush(stdout);
      waitForever();
    }
  }
  return 0;
}

static int notifyOnSignal(void) {
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, NULL);
  if (notify("STATUS=warming up") != 0) {
    return 1;
  }
  int sig = 0;
  sigwait(&usr1, &sig);
  if (notify("READY=1\nSTATUS=serving") != 0) {
    return 1;
  }
  waitForever();
  return 0;
}

// Where a watchdog's SIGABRT finds the workload: a backtrace of its core names this function.
__attribute__((noinline)) static void hang_without_pinging(void) {
  waitForever();
}

static int pingThenHang(int pings, int interval_ms) {
  if (notify("READY=1") != 0) {
    return 1;
  }
  const struct timespec interval = {interval_ms / 1000, (long)(interval_ms % 1000) * 1000000L};
  for (int i = 0; i < pings; ++i) {
    nanosleep(&interval, NULL);
    if (notify("WATCHDOG=1") != 0) {
      return 1;
    }
  }
  notify("STATUS=hung");
  hang_without_pinging();
  return 0;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) {
    fprintf(stderr, "usage: health_workload MODE ARGS...\n");
    return 2;
  }
  const char* mode = argv[1];
  if (strcmp(mode, "http") == 0 && argc >= 4) {
    return serveHttp(atoi(argv[2]), argv[3]);
  }
  if (strcmp(mode, "tcp") == 0 && argc >= 4) {
    return serveTcp(atoi(argv[2]), argv[3]);
  }
  if (strcmp(mode, "notify") == 0) {
    return notifyOnSignal();
  }
  if (strcmp(mode, "watchdog") == 0 && argc >= 4) {
    return pingThenHang(atoi(argv[2]), atoi(argv[3]));
  }
  if (strcmp(mode, "hang") == 0 && argc >= 3) {
    FILE* f = fopen(argv[2], "a");
    if (f != NULL) {
      fprintf(f, "%d\n", (int)getpid());
      fclose(f);
    }
    waitForever();
  }
  fprintf(stderr, "health_workload: bad arguments\n");
  return 2;
}
