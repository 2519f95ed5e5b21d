/* page-touch [MIB]: the cost of a process's first touch of a page of fresh anonymous memory (the page fault,
 * the zeroed page, its mapping): MIB (default 16) mapped, one byte written per page, and the us a page printed.
 * A launch's growth beyond `node -e 0` is pages first touched: this prices them on this machine. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "floor.h"

int main(int argc, char **argv) {
  size_t size = (size_t)(argc > 1 ? atoi(argv[1]) : 16) << 20;
  long page = sysconf(_SC_PAGESIZE);
  double start = now_ms();
  char *memory = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return 1;
  for (size_t at = 0; at < size; at += (size_t)page) memory[at] = 1;
  printf("%.3f\n", (now_ms() - start) * 1000 / (double)(size / (size_t)page));
  return 0;
}
