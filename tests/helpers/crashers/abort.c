// Calls abort() from a named function: SIGABRT with raise/abort on top of the stack.
#include <stdlib.h>

__attribute__((noinline)) void give_up(void) { abort(); }

int main(void) {
  give_up();
  return 0;
}
