// Prints one line, then exits 3: an abnormal end without a core.
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  puts("crasher exit3: about to exit 3");
  fflush(stdout);
  exit(3);
}
