// Segfaults in a second thread (crashing_worker) while the main thread waits for it: the crash
// must be found in the right thread's backtrace. The barrier makes sure the main thread is back
// in main (not still inside clone) when the worker faults.
#include <pthread.h>
#include <stddef.h>

static pthread_barrier_t started;

__attribute__((noinline)) void crashing_worker_fault(volatile int* target) { *target = 1; }

void* crashing_worker(void* arg) {
  (void)arg;
  pthread_barrier_wait(&started);
  crashing_worker_fault(NULL);
  return NULL;
}

int main(void) {
  pthread_t thread;
  pthread_barrier_init(&started, NULL, 2);
  if (pthread_create(&thread, NULL, crashing_worker, NULL) != 0) {
    return 2;
  }
  pthread_barrier_wait(&started);
  pthread_join(thread, NULL);
  return 0;
}
