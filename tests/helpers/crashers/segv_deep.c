// Segfaults three calls deep: main -> level1 -> level2 -> level3, which writes through NULL.
// Extra arguments are ignored (tests pass secrets to see them redacted).
#include <stdio.h>

__attribute__((noinline)) void level3(int* target) { *target = 42; }

__attribute__((noinline)) void level2(int* target) { level3(target); }

__attribute__((noinline)) void level1(int* target) { level2(target); }

int main(void) {
  volatile int* nowhere = NULL;
  level1((int*)nowhere);
  puts("not reached");
  return 0;
}
